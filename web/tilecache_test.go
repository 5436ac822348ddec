package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
)

// TestTileEncodings reads every tile and entry bundle of a 600-entry log,
// full and partial, as clients with and without gzip do, twice (the second
// time from the server's cache): gzipped bodies decompress to the stored
// tile's bytes, the others are those bytes, every answer says Vary:
// Accept-Encoding, and full entry bundles (which compress) are gzipped.
func TestTileEncodings(t *testing.T) {
	h := newHarness(t)
	size := h.log.Published().Size
	var tiles []verify.Tile
	for level := -1; level <= 1; level++ {
		for n := uint64(0); ; n++ {
			tl := verify.TileForIndex(level, n*verify.TileWidth*pow256(max(level, 0)), size)
			if n*verify.TileWidth*pow256(max(level, 0)) >= size {
				break
			}
			tiles = append(tiles, tl)
		}
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	gzipped := 0
	for round := range 2 {
		for _, tl := range tiles {
			want, err := h.log.ReadTile(context.Background(), tl)
			if err != nil {
				t.Fatal(err)
			}
			for _, ae := range []string{"", "identity", "gzip", "gzip, identity", "br;q=1, gzip;q=0.5", "gzip;q=0", "deflate"} {
				req, _ := http.NewRequest("GET", h.srv.URL+"/"+tl.Path(), nil)
				if ae != "" {
					req.Header.Set("Accept-Encoding", ae)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d %v", tl.Path(), resp.StatusCode, err)
				}
				if v := resp.Header.Get("Vary"); !strings.Contains(v, "Accept-Encoding") {
					t.Errorf("GET %s: Vary %q", tl.Path(), v)
				}
				accepts := strings.HasPrefix(ae, "gzip") && ae != "gzip;q=0" || strings.Contains(ae, "gzip;q=0.5")
				ce := resp.Header.Get("Content-Encoding")
				switch {
				case ce == "gzip" && accepts:
					gzipped++
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatalf("GET %s (Accept-Encoding %q): %v", tl.Path(), ae, err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatalf("GET %s (Accept-Encoding %q): %v", tl.Path(), ae, err)
					}
				case ce != "":
					t.Fatalf("GET %s (Accept-Encoding %q): Content-Encoding %q", tl.Path(), ae, ce)
				case accepts && tl.Level == verify.EntriesLevel && tl.Width == verify.TileWidth:
					t.Errorf("GET %s (Accept-Encoding %q): a full entry bundle not gzipped", tl.Path(), ae)
				}
				if !bytes.Equal(body, want) {
					t.Fatalf("round %d: GET %s (Accept-Encoding %q): %d bytes, not the tile's %d", round, tl.Path(), ae, len(body), len(want))
				}
			}
		}
	}
	if gzipped == 0 {
		t.Error("nothing was served gzipped")
	}
}

func pow256(l int) uint64 {
	p := uint64(1)
	for range l {
		p *= verify.TileWidth
	}
	return p
}
