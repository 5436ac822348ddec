package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// c2spClient reads the log as any tiled-log client would, with x/mod's
// sumdb code: it trusts only the verifier key.
type c2spClient struct {
	t    *testing.T
	h    *harness
	tree tlog.Tree
}

// checkpoint fetches /checkpoint and verifies it with vkey.
func (c *c2spClient) checkpoint(vkey string) {
	resp, body := get(c.t, c.h.srv, "/checkpoint")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		c.t.Fatalf("GET /checkpoint = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=1" {
		c.t.Errorf("GET /checkpoint: Cache-Control %q", cc)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		c.t.Fatal(err)
	}
	n, err := note.Open(body, note.VerifierList(v))
	if err != nil {
		c.t.Fatalf("note.Open(%q): %v", body, err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != testOrigin || lines[3] != "" {
		c.t.Fatalf("checkpoint text %q", n.Text)
	}
	size, err1 := strconv.ParseInt(lines[1], 10, 64)
	root, err2 := tlog.ParseHash(lines[2])
	if err1 != nil || err2 != nil {
		c.t.Fatalf("checkpoint text %q: %v, %v", n.Text, err1, err2)
	}
	c.tree = tlog.Tree{N: size, Hash: root}
}

// c2spPath maps an x/mod tile to its c2sp.org/tlog-tiles path.
func c2spPath(t tlog.Tile) string {
	if t.L == -1 {
		return "/tile/entries/" + strings.TrimPrefix(t.Path(), "tile/8/data/")
	}
	return "/tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
}

func (c *c2spClient) Height() int { return 8 }

func (c *c2spClient) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	var data [][]byte
	for _, t := range tiles {
		resp, body := get(c.t, c.h.srv, c2spPath(t))
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s: %d", c2spPath(t), resp.StatusCode)
		}
		data = append(data, body)
	}
	return data, nil
}

func (c *c2spClient) SaveTiles([]tlog.Tile, [][]byte) {}

// entries fetches the entry bundle holding index and parses it.
func (c *c2spClient) entries(index int64) [][]byte {
	t := tlog.TileForIndex(8, tlog.StoredHashIndex(0, index))
	t.L = -1
	t.W = int(min(c.tree.N-t.N*256, 256))
	_, body := get(c.t, c.h.srv, c2spPath(t))
	var entries [][]byte
	for len(body) >= 2 {
		n := int(binary.BigEndian.Uint16(body))
		if len(body) < 2+n {
			break
		}
		entries, body = append(entries, body[2:2+n]), body[2+n:]
	}
	if len(entries) != t.W || len(body) != 0 {
		c.t.Fatalf("bundle %s: %d entries and %d stray bytes", c2spPath(t), len(entries), len(body))
	}
	return entries
}

func TestC2SPClient(t *testing.T) {
	h := newHarness(t)
	c := &c2spClient{t: t, h: h}
	c.checkpoint(h.log.VerifierKey())
	if c.tree.N != 600 {
		t.Fatalf("checkpoint size %d, want 600", c.tree.N)
	}
	hr := tlog.TileHashReader(c.tree, c)
	if root, err := tlog.TreeHash(c.tree.N, hr); err != nil || root != c.tree.Hash {
		t.Fatalf("TreeHash from tiles = %v, %v, want %v", root, err, c.tree.Hash)
	}
	for _, i := range []int64{0, 1, 255, 256, 299, 511, 512, 599} {
		entries := c.entries(i)
		entry := entries[i%256]
		if !bytes.Equal(entry, testEntry(uint64(i))) {
			t.Errorf("entry %d = %q, want %q", i, entry, testEntry(uint64(i)))
		}
		p, err := tlog.ProveRecord(c.tree.N, i, hr)
		if err != nil {
			t.Fatalf("ProveRecord(%d): %v", i, err)
		}
		if err := tlog.CheckRecord(p, c.tree.N, c.tree.Hash, i, tlog.RecordHash(entry)); err != nil {
			t.Errorf("CheckRecord(%d): %v", i, err)
		}
	}
}

func TestTileHeaders(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/tile/0/000", "/tile/0/002.p/88", "/tile/1/000.p/2", "/tile/entries/000", "/tile/entries/002.p/88", "/tile/0/000.p/7"} {
		resp, body := get(t, h.srv, path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d: %s", path, resp.StatusCode, body)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", path, cc)
		}
	}
	// A tile of the 600-entry tree that does not exist yet, or a partial
	// tile wider than the tree's: 404, not cached.
	for _, path := range []string{"/tile/0/003.p/1", "/tile/0/002.p/89", "/tile/0/002", "/tile/1/000", "/tile/2/000.p/1", "/tile/entries/002", "/tile/63/000"} {
		resp, body := get(t, h.srv, path)
		wantProblem(t, "GET "+path, resp, body, http.StatusNotFound, "beyond-tree")
	}
}

func TestEntryBundleGzip(t *testing.T) {
	h := newHarness(t)
	_, plain := get(t, h.srv, "/tile/entries/000")
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", h.srv.URL+"/tile/entries/000", nil)
	req.Header.Set("Accept-Encoding", "gzip, identity")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", ce)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("gunzipped bundle: %d bytes, %v; want the %d plain bytes", len(got), err, len(plain))
	}
}

// TestCheckpointMatchesLog checks /checkpoint and /api/v1/log agree.
func TestLogInfo(t *testing.T) {
	h := newHarness(t)
	_, cp := get(t, h.srv, "/checkpoint")
	var info struct {
		Origin, VKey, Root, Checkpoint string
		VKeys                          []string
		Size                           uint64
	}
	getJSON(t, h.srv, "/api/v1/log", &info)
	p := h.log.Published()
	if info.Origin != testOrigin || info.VKey != h.log.VerifierKey() || len(info.VKeys) != 1 || info.VKeys[0] != info.VKey || info.Size != p.Size ||
		info.Root != base64.StdEncoding.EncodeToString(p.Root[:]) || info.Checkpoint != string(cp) {
		t.Errorf("GET /api/v1/log = %+v, want origin %s, size %d, /checkpoint %q", info, testOrigin, p.Size, cp)
	}
}
