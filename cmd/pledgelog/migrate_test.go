package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/postgres/pgtest"
	"github.com/pledgelog/pledgelog/verify"
)

// TestMigrate copies a demo log grown past two full tiles from Pebble onto
// PostgreSQL with pledgelog migrate, and back onto Pebble: the three logs
// have byte-identical entry bundles, hash tiles and last checkpoints, the
// roots of the first log's every checkpoint are those of the copies'
// trees, serve serves each copy, and pledge-verify audits them clean. A
// migration onto a database that holds a log is refused and leaves no
// data directory.
func TestMigrate(t *testing.T) {
	const seed = "migrate test"
	a := dataDir(filepath.Join(t.TempDir(), "pebble"))
	code, stdout, stderr := pledgelog(t, nil, "init", "--demo", "--demo-seed", seed, "--data", string(a), "--origin", pgOrigin)
	if code != 0 {
		t.Fatalf("init = %d: %s", code, stderr)
	}
	_, vkey, _ := strings.Cut(stdout, "vkey: ")
	vkey = strings.TrimSpace(strings.SplitN(vkey, "\n", 2)[0])
	demo, err := attest.NewDemo(pgOrigin, []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	grow(t, a, demo, 400)

	dsn := pgtest.NewDatabase(t)
	t.Setenv(dsnEnv, dsn) // for sameLogs, in this process
	env := []string{dsnEnv + "=" + dsn}
	b := dataDir(filepath.Join(t.TempDir(), "postgres"))
	code, stdout, stderr = pledgelog(t, env, "migrate", "--from", string(a), "--to", string(b))
	if code != 0 || !strings.Contains(stderr, "migrate: copied 572/572 entries") || !strings.Contains(stdout, "verified") {
		t.Fatalf("migrate onto PostgreSQL = %d: %s%s", code, stdout, stderr)
	}
	t.Logf("pledgelog migrate --from pebble --to postgres:\n%s%s", stderr, stdout)
	c := dataDir(filepath.Join(t.TempDir(), "back"))
	code, stdout, stderr = pledgelog(t, env, "migrate", "--from", string(b), "--to", string(c))
	if code != 0 || !strings.Contains(stdout, "(postgres) to "+string(c)+" (pebble)") {
		t.Fatalf("migrate back onto Pebble = %d: %s%s", code, stdout, stderr)
	}
	if k, _ := c.readStorage(); k.kind != kindPebble {
		t.Errorf("the log migrated back is on %s", k.kind)
	}

	sameLogs(t, a, b, c)
	reg, err := attest.NewPublicKey(demo.Registrar.Public())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []dataDir{b, c} {
		s := startServeEnv(t, d, env)
		wantAudit(t, verifyBinary, s.url, vkey, reg.ID(), 572)
		s.stop(t)
	}

	d := filepath.Join(t.TempDir(), "again")
	code, _, stderr = pledgelog(t, env, "migrate", "--from", string(a), "--to", d)
	if code != 2 || !strings.Contains(stderr, "already holds a log") {
		t.Errorf("migrate onto a database holding a log = %d: %s", code, stderr)
	}
	if _, err := dataDir(d).readOrigin(); err == nil {
		t.Errorf("the refused migration left %s", d)
	}
}

// grow appends n pledges of the demo's signatories to the stopped log in d.
func grow(t *testing.T, d dataDir, demo *attest.Demo, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	al, st, err := openAttestLog(ctx, d, log.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	done := make(chan error, 1)
	go func() { done <- al.Log().Run(ctx) }()
	accord, err := al.Accord(ctx, "cybersecurity-tech-accord-2018")
	if err != nil {
		t.Fatal(err)
	}
	var leaves [][]byte
	for i := range n {
		sig := []string{"microsoft", "cisco", "oracle"}[i%3]
		p := &attest.Pledge{Origin: pgOrigin, Signatory: sig, Accord: accord.ID, Principle: accord.Principles[i%len(accord.Principles)].ID,
			Status: attest.StatusReaffirmed, Statement: fmt.Sprintf("Migrated pledge %d.", i), Effective: "2026-01-02"}
		leaf, err := attest.SignWithKeys(attest.NewPledgeStatement(p, accord.Digest), demo.Keys[sig])
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leaf)
	}
	for i := 0; i < n; i += 100 {
		if err := submitAll(ctx, al, leaves[i:min(n, i+100)]); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	<-done
}

// sameLogs opens the logs of ds and wants them the same: every entry
// bundle and hash tile, byte for byte, the same last signed checkpoint,
// and at the size of each checkpoint the first log stored, its root.
func sameLogs(t *testing.T, ds ...dataDir) {
	t.Helper()
	ctx := context.Background()
	var logs []*log.Log
	for _, d := range ds {
		l, st, err := openLog(ctx, d, d.db(), log.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		logs = append(logs, l)
	}
	size := logs[0].Latest().Size
	var tiles []verify.Tile
	for i := uint64(0); i < size; i += verify.TileWidth {
		t := verify.TileForIndex(verify.EntriesLevel, i, size)
		tiles = append(tiles, t)
	}
	for level, c := 0, size; c > 0; level, c = level+1, c/verify.TileWidth {
		for i := uint64(0); i < c; i += verify.TileWidth {
			t := verify.TileForIndex(0, i, c)
			t.Level = level
			tiles = append(tiles, t)
		}
	}
	if len(tiles) != 7 { // of 572 entries: 3 entry bundles, 3 level-0 tiles, 1 of level 1
		t.Errorf("%d tiles in a tree of %d, want 7", len(tiles), size)
	}
	for i, l := range logs[1:] {
		if !bytes.Equal(l.Latest().Checkpoint, logs[0].Latest().Checkpoint) {
			t.Errorf("%s: last checkpoint\n%s\nwant\n%s", ds[i+1], l.Latest().Checkpoint, logs[0].Latest().Checkpoint)
		}
		for _, tile := range tiles {
			want, err := logs[0].ReadTile(ctx, tile)
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.ReadTile(ctx, tile)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %s differs (%v)", ds[i+1], tile.Path(), err)
			}
		}
	}
	cps, err := logs[0].Checkpoints(ctx, size+1, 10000)
	if err != nil || len(cps) < 2 {
		t.Fatalf("checkpoints of the first log: %d, %v", len(cps), err)
	}
	v, _ := verify.NewVerifier(logs[0].VerifierKey())
	for _, signed := range cps {
		cp, _, err := verify.OpenCheckpoint(signed, pgOrigin, []verify.Verifier{v}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range logs[1:] {
			root, err := verify.TreeRoot(ctx, verify.TileReaderFunc(l.ReadTile), cp.Size)
			if err != nil || root != cp.Root {
				t.Errorf("%s: root at size %d: %x, %v; want %x", ds[i+1], cp.Size, root, err, cp.Root)
			}
		}
	}
	t.Logf("%d tiles and entry bundles identical, %d checkpoint roots, in a tree of %d", len(tiles), len(cps), size)
}
