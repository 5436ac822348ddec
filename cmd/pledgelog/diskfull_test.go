package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/log/storage/pebble"
	"github.com/pledgelog/pledgelog/log/storage/storagetest"
)

const (
	diskFullOrigin = "example.com/diskfull"
	diskFullSeed   = "disk full test"
)

// fullDisk is a demo log on a small tmpfs, and what was acknowledged.
type fullDisk struct {
	t            *testing.T
	mnt, filler  string
	d            dataDir
	vkey         string
	demo         *attest.Demo
	key          *client.Key
	size         uint64 // the acknowledged tree size
	n            int    // pledges made
	accord, prin string
	digest       string
}

// TestDiskFull fills a real file system, a 40 MiB tmpfs, under a real
// pledgelog serve (issue 12): a batch that does not fit in what is left
// is saved by the ballast and acknowledged, then writes are 503 disk-full
// with Retry-After while reads are 200, /readyz says why and the process
// stays up; with the filler removed and a restart, writes resume, the
// ballast is back, the watermark alone then refuses writes before the
// disk fills and lets them in again once space is freed, with no restart;
// and pledge-verify audits the whole log at the acknowledged size.
func TestDiskFull(t *testing.T) {
	f := newFullDisk(t, 40<<20)
	flags := []string{"--min-free-mib", "1", "--ballast-mib", "4", "--ip-rate", "-1", "--signatory-rate", "-1"}
	s := startServe(t, f.d, flags...)
	a, err := client.New(s.url).Accord(context.Background(), "cybersecurity-tech-accord-2018")
	if err != nil {
		t.Fatal(err)
	}
	f.accord, f.prin, f.digest = a.ID, a.Principles[0].ID, a.Digest
	ballast := filepath.Join(f.d.db(), pebble.BallastName)
	if info, err := os.Stat(ballast); err != nil || info.Size() != 4<<20 {
		t.Fatalf("ballast at start: %v, %v", info, err)
	}

	// 64 entries of about 56 KiB: a batch writes more than its 3.6 MiB
	// body. Leave room for two and a half bodies above the 1 MiB
	// watermark: a batch starts above it and does not fit in what is left.
	// Each is acknowledged, the last because the ballast was removed.
	batch := f.batch(64)
	before := storagetest.Fill(t, f.filler, 1<<20+uint64(len(batch))*5/2)
	var avail uint64
	for i := 0; ; i++ {
		if _, err := os.Stat(ballast); os.IsNotExist(err) {
			break
		} else if i == 4 {
			t.Fatalf("4 batches did not fill the disk (ballast: %v): %s", err, s.stderr.String())
		}
		avail = storagetest.Avail(t, f.mnt)
		if code, body := f.post(s, batch); code != 201 {
			t.Fatalf("batch %d (%d bytes free) = %d: %.300s\n%s", i, avail, code, body, s.stderr.String())
		}
		batch = f.batch(64)
	}
	full := storagetest.Avail(t, f.mnt)
	code, body := f.post(s, f.batch(1))
	f.wantRefused(s, "after the ballast was used", code, body)
	t.Logf("ballast: %d bytes free before batches of %d-byte bodies; %d free before the last, acknowledged; %d free after it, writes refused at size %d",
		before, len(batch), avail, full, f.size)
	s.stop(t)

	// Free the space and restart: the ballast is back and writes resume.
	if err := os.Remove(f.filler); err != nil {
		t.Fatal(err)
	}
	s = startServe(t, f.d, flags...)
	if size := checkpointSize(t, s.url, f.vkey); size != fmt.Sprint(f.size) {
		t.Fatalf("after the restart, checkpoint size %s, want %d acknowledged", size, f.size)
	}
	if info, err := os.Stat(ballast); err != nil || info.Size() != 4<<20 {
		t.Fatalf("ballast after the restart with space: %v, %v", info, err)
	}
	if code, body := f.post(s, f.batch(8)); code != 201 {
		t.Fatalf("a batch after the restart = %d: %.300s", code, body)
	}

	// The watermark alone: below 1 MiB free, writes are refused before
	// the disk fills, the ballast untouched; freed space lets them in.
	low := storagetest.Fill(t, f.filler, 512<<10)
	code, body = f.post(s, f.batch(8))
	f.wantRefused(s, "below the watermark", code, body)
	if info, err := os.Stat(ballast); err != nil || info.Size() != 4<<20 {
		t.Errorf("ballast after a refusal by the watermark: %v, %v", info, err)
	}
	os.Remove(f.filler)
	if code, body := f.post(s, f.batch(8)); code != 201 {
		t.Fatalf("a batch once space was freed, no restart = %d: %.300s", code, body)
	}
	t.Logf("watermark: %d bytes free, writes refused; freed, size %d", low, f.size)
	f.audit(s)
	s.stop(t)
}

func newFullDisk(t *testing.T, size int64) *fullDisk {
	f := &fullDisk{t: t, mnt: storagetest.Tmpfs(t, size)}
	f.filler, f.d = filepath.Join(f.mnt, "filler"), dataDir(filepath.Join(f.mnt, "data"))
	// init logs the demo under the default 256 MiB watermark: make the
	// log on the big disk, then copy it in.
	made := filepath.Join(t.TempDir(), "data")
	code, stdout, stderr := pledgelog(t, nil, "init", "--demo", "--demo-seed", diskFullSeed, "--data", made, "--origin", diskFullOrigin)
	if code != 0 {
		t.Fatalf("init = %d: %s", code, stderr)
	}
	if out, err := exec.Command("cp", "-a", made, string(f.d)).CombinedOutput(); err != nil {
		t.Fatalf("copying the data directory: %v: %s", err, out)
	}
	_, vkey, _ := strings.Cut(stdout, "vkey: ")
	f.vkey = strings.TrimSpace(strings.SplitN(vkey, "\n", 2)[0])
	var err error
	if f.demo, err = attest.NewDemo(diskFullOrigin, []byte(diskFullSeed)); err != nil {
		t.Fatal(err)
	}
	if f.key, err = client.NewKeyFrom(f.demo.Keys["microsoft"]); err != nil {
		t.Fatal(err)
	}
	f.size = uint64(len(f.demo.Entries))
	return f
}

// batch returns n new pledges of about 56 KiB each, as a batch body.
func (f *fullDisk) batch(n int) []byte {
	f.t.Helper()
	var req api.BatchRequest
	for range n {
		f.n++
		var evidence []string
		for i := range 16 {
			evidence = append(evidence, fmt.Sprintf("https://example.com/evidence/%d/%d/%s", f.n, i, strings.Repeat("e", 1990)))
		}
		p := &attest.Pledge{Origin: diskFullOrigin, Signatory: "microsoft", Accord: f.accord, Principle: f.prin,
			Status: attest.StatusReaffirmed, Statement: fmt.Sprintf("Pledge %d. %s", f.n, strings.Repeat("s", 7900)),
			Effective: "2026-01-02", Evidence: evidence}
		leaf, err := attest.SignWithKeys(attest.NewPledgeStatement(p, f.digest), f.demo.Keys["microsoft"])
		if err != nil {
			f.t.Fatal(err)
		}
		req.Entries = append(req.Entries, leaf)
	}
	body, err := json.Marshal(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return body
}

// post submits a batch; a 201 adds its entries to the acknowledged size.
func (f *fullDisk) post(s *server, body []byte) (int, []byte) {
	f.t.Helper()
	token, err := f.key.Token("microsoft", diskFullOrigin, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", s.url+"/api/v1/entries/batch", bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("posting a batch: %v (serve exited? %v)\n%s", err, s.cmd.ProcessState, s.stderr.String())
	}
	defer r.Body.Close()
	resp, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	code := r.StatusCode
	if code == 201 {
		var br api.BatchResponse
		if err := json.Unmarshal(resp, &br); err != nil {
			f.t.Fatal(err)
		}
		f.size += uint64(len(br.Entries))
	}
	return code, resp
}

// wantRefused wants a write answered 503 disk-full with Retry-After, the
// reads 200 at the acknowledged size, /readyz 503 saying why, and the
// process up.
func (f *fullDisk) wantRefused(s *server, what string, code int, body []byte) {
	f.t.Helper()
	if code != 503 || !strings.Contains(string(body), "/problems/disk-full") {
		f.t.Fatalf("a write %s = %d: %.300s", what, code, body)
	}
	if size := checkpointSize(f.t, s.url, f.vkey); size != fmt.Sprint(f.size) {
		f.t.Errorf("%s: checkpoint size %s, want %d acknowledged", what, size, f.size)
	}
	for _, path := range []string{fmt.Sprintf("/api/v1/entries/%d", f.size-1), "/tile/entries/000.p/1", "/"} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			f.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			f.t.Errorf("%s: GET %s = %d", what, path, resp.StatusCode)
		}
	}
	if code, body := readyz(f.t, s.url); code != 503 || !strings.Contains(body, "nearly full") {
		f.t.Errorf("%s: /readyz = %d %s, want 503 saying the storage is nearly full", what, code, body)
	}
	if s.cmd.ProcessState != nil {
		f.t.Fatalf("%s: serve exited: %s", what, s.stderr.String())
	}
}

// audit replays the whole log with pledge-verify and wants it clean at the
// acknowledged size.
func (f *fullDisk) audit(s *server) {
	f.t.Helper()
	reg, err := attest.NewPublicKey(f.demo.Registrar.Public())
	if err != nil {
		f.t.Fatal(err)
	}
	wantAudit(f.t, verifyBinary, s.url, f.vkey, reg.ID(), f.size)
}

// wantAudit runs pledge-verify (the binary pv) audit of the log at url,
// pinning the log key vkey and the registrar key registrar, and wants it
// clean at size.
func wantAudit(t *testing.T, pv, url, vkey, registrar string, size uint64) {
	t.Helper()
	cmd := exec.Command(pv, "audit", "--url", url, "--log-key", vkey,
		"--registrar-key", registrar, "--state", t.TempDir(), "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var rep struct {
		Size  uint64 `json:"size"`
		Total int    `json:"total"`
	}
	if err != nil || json.Unmarshal(out, &rep) != nil || rep.Size != size || rep.Total != 0 {
		t.Errorf("pledge-verify audit: %v, size %d (want %d), %d findings:\n%.2000s%s", err, rep.Size, size, rep.Total, out, stderr.Bytes())
	}
}
