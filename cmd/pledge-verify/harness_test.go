package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
	"github.com/pledgelog/pledgelog/log"
	"github.com/pledgelog/pledgelog/log/storage/memory"
	"github.com/pledgelog/pledgelog/web"
	"github.com/sigstore/sigstore/pkg/signature"
)

// binary is the pledge-verify command built by TestMain, and pledgelog
// the server's.
var binary, pledgelog string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pledge-verify-test")
	if err != nil {
		panic(err)
	}
	binary, pledgelog = filepath.Join(dir, "pledge-verify"), filepath.Join(dir, "pledgelog")
	for out, pkg := range map[string]string{binary: ".", pledgelog: "../pledgelog"} {
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", pkg, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pv runs the binary to completion and returns its exit code, stdout and
// stderr.
func pv(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// want runs the binary and fails the test unless it exits with code and
// its output contains each of contains.
func want(t *testing.T, code int, contains []string, args ...string) string {
	t.Helper()
	got, stdout, stderr := pv(t, args...)
	out := stdout + stderr
	if got != code {
		t.Errorf("pledge-verify %s = %d, want %d:\n%s", strings.Join(args, " "), got, code, out)
	}
	for _, c := range contains {
		if !strings.Contains(out, c) {
			t.Errorf("pledge-verify %s: output lacks %q:\n%s", strings.Join(args, " "), c, out)
		}
	}
	return stdout
}

const origin = "log.example.org/verify-test"

// logSeed makes the log key of every test server: two servers of one
// seed are two copies of one log.
var logSeed = bytes.Repeat([]byte{42}, 32)

// testServer is a log with the attestation hooks behind the real server,
// on loopback.
type testServer struct {
	t    *testing.T
	log  *log.Log
	reg  *attest.Registry
	demo *attest.Demo
	srv  *httptest.Server
	url  string
	n    int

	remoteVKey string // the log key of a server run by the real binary
	stop       func() // stops the server run by the real binary

	// accept is the Accept header of submissions: the v1 bundle media
	// type, for the tests of v1 bundles; "" takes the server's default,
	// v2.
	accept string
}

// newServer serves the demo of seed, and extra entries.
func newServer(t *testing.T, seed string) *testServer {
	t.Helper()
	s := &testServer{t: t, accept: "application/vnd.pledgelog.bundle.v1+json"}
	signer, err := signature.LoadED25519Signer(ed25519.NewKeyFromSeed(logSeed))
	if err != nil {
		t.Fatal(err)
	}
	lc := log.Config{Origin: origin, Signer: signer, Storage: memory.New(), PublishInterval: time.Millisecond}
	al, err := attestlog.Create(context.Background(), lc)
	if err != nil {
		t.Fatal(err)
	}
	s.log, s.reg = al.Log(), al.Registry()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.log.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if s.demo, err = attest.NewDemo(origin, []byte(seed)); err != nil {
		t.Fatal(err)
	}
	s.append(s.demo.Entries...)
	w, err := web.New(web.Config{Attest: al, IPLimit: web.Limit{Rate: -1}, SignatoryLimit: web.Limit{Rate: -1},
		ReadLimit: web.Limit{Rate: -1}})
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(w.Handler())
	t.Cleanup(s.srv.Close)
	s.url = s.srv.URL
	return s
}

// append logs entries and waits until they are published.
func (s *testServer) append(entries ...[]byte) {
	s.t.Helper()
	if _, err := s.log.AppendBatch(context.Background(), entries); err != nil {
		s.t.Fatal(err)
	}
	s.waitPublished()
}

func (s *testServer) waitPublished() {
	if s.log == nil {
		s.waitRemote()
		return
	}
	for deadline := time.Now().Add(5 * time.Second); s.log.Published() == nil || s.log.Published().Size != s.log.Latest().Size; {
		if time.Now().After(deadline) {
			s.t.Fatal("checkpoint not published")
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *testServer) vkey() string {
	if s.log == nil {
		return s.remoteVKey
	}
	return s.log.VerifierKey()
}

// registrarID is the demo registrar's key id, pinned by the tests.
func (s *testServer) registrarID() string {
	pk, err := attest.NewPublicKey(s.demo.Registrar.Public())
	if err != nil {
		s.t.Fatal(err)
	}
	return pk.ID()
}

// trust returns the flags that pin this log.
func (s *testServer) trust() []string {
	return []string{"--log-key", s.vkey(), "--registrar-key", s.registrarID()}
}

// pledge signs a new pledge of signatory about the accord's principle i.
func (s *testServer) pledge(signatory string, i int) []byte {
	s.t.Helper()
	s.n++
	a := s.reg.Accords()[0]
	p := &attest.Pledge{Origin: origin, Signatory: signatory, Accord: a.ID, Principle: a.Principles[i].ID,
		Status: attest.StatusProgress, Statement: fmt.Sprintf("Progress report %d (demo data).", s.n), Effective: "2026-01-02"}
	signer, err := attest.NewSigner(s.demo.Keys[signatory])
	if err != nil {
		s.t.Fatal(err)
	}
	leaf, err := attest.Sign(attest.NewPledgeStatement(p, a.Digest), signer)
	if err != nil {
		s.t.Fatal(err)
	}
	return leaf
}

// pledges signs n new pledges of signatory, about the accord's
// principles in turn.
func (s *testServer) pledges(signatory string, n int) [][]byte {
	s.t.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = s.pledge(signatory, i%len(s.reg.Accords()[0].Principles))
	}
	return out
}

// submit posts an envelope through the write API with a session token of
// its signatory and returns the proof bundle.
func (s *testServer) submit(signatory string, envelope []byte) []byte {
	s.t.Helper()
	body := s.post("/api/v1/entries", signatory, envelope)
	s.waitPublished()
	return body
}

// submitBatch posts envelopes of signatory as one batch through the write
// API and waits until the served checkpoint has their last index.
func (s *testServer) submitBatch(signatory string, envelopes ...[]byte) {
	s.t.Helper()
	b, err := json.Marshal(map[string][]json.RawMessage{"entries": rawMessages(envelopes)})
	if err != nil {
		s.t.Fatal(err)
	}
	var resp struct{ Entries []struct{ Index uint64 } }
	if err := json.Unmarshal(s.post("/api/v1/entries/batch", signatory, b), &resp); err != nil || len(resp.Entries) != len(envelopes) {
		s.t.Fatalf("batch answer: %v", err)
	}
	s.waitSize(resp.Entries[len(envelopes)-1].Index + 1)
}

func rawMessages(bs [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out
}

// post posts body to path with a session token of signatory and returns
// the answer, which must be 201 Created.
func (s *testServer) post(path, signatory string, body []byte) []byte {
	s.t.Helper()
	key := s.demo.Keys[signatory]
	pk, _ := attest.NewPublicKey(key.Public())
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": signatory, "aud": origin, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	tok.Header["kid"] = pk.ID()
	signed, err := tok.SignedString(key)
	if err != nil {
		s.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+signed)
	if s.accept != "" {
		req.Header.Set("Accept", s.accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		s.t.Fatalf("POST %s = %s: %s", path, resp.Status, answer)
	}
	return answer
}

// proxy serves the server's responses, with tamper applied to those whose
// path has the prefix.
func proxy(t *testing.T, s *testServer, prefix string, tamper func([]byte) []byte) string {
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(s.url + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if strings.HasPrefix(r.URL.Path, prefix) && resp.StatusCode == http.StatusOK {
			body = tamper(bytes.Clone(body))
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// flipAt flips a bit of the byte at offset, if there is one.
func flipAt(offset int) func([]byte) []byte {
	return func(b []byte) []byte {
		if offset < len(b) {
			b[offset] ^= 1
		}
		return b
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// revoke revokes signatory's demo key as compromised from voidFrom, signed
// by the registrar.
func (s *testServer) revoke(signatory string, voidFrom uint64) []byte {
	s.t.Helper()
	info, _ := s.reg.Signatory(signatory)
	e := &attest.SignatoryEvent{Action: attest.ActionRevoke, Origin: origin, Signatory: signatory, Seq: info.Seq + 1, Prev: info.Head,
		KeyID: info.Keys[0].ID, Reason: attest.ReasonCompromised, VoidFrom: &voidFrom}
	st, err := attest.NewStatement(e)
	if err != nil {
		s.t.Fatal(err)
	}
	signer, err := attest.NewSigner(s.demo.Registrar)
	if err != nil {
		s.t.Fatal(err)
	}
	leaf, err := attest.Sign(st, signer)
	if err != nil {
		s.t.Fatal(err)
	}
	return leaf
}

// proxyStatus serves the server's responses, but answers code for paths
// with the prefix.
func proxyStatus(t *testing.T, s *testServer, prefix string, code int) string {
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix) {
			http.Error(w, "unavailable", code)
			return
		}
		http.Redirect(w, r, s.url+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// sign signs a statement of predicate p with keys.
func (s *testServer) sign(p attest.Predicate, keys ...ed25519.PrivateKey) []byte {
	s.t.Helper()
	st, err := attest.NewStatement(p)
	if err != nil {
		s.t.Fatal(err)
	}
	leaf, err := attest.SignWithKeys(st, keys...)
	if err != nil {
		s.t.Fatal(err)
	}
	return leaf
}

// recoverAndRotate returns a recover event of signatory with a new key,
// and a rotation of the registrar key, both at the heads of their chains.
func (s *testServer) recoverAndRotate(signatory string) (recovered, rotated []byte) {
	s.t.Helper()
	newKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	pk, _ := attest.NewPublicKey(newKey.Public())
	info, _ := s.reg.Signatory(signatory)
	recovered = s.sign(&attest.SignatoryEvent{Action: attest.ActionRecover, Origin: origin, Signatory: signatory,
		Seq: info.Seq + 1, Prev: info.Head, Key: &pk}, s.demo.Registrar, newKey)
	s.append(recovered)
	regKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	rpk, _ := attest.NewPublicKey(regKey.Public())
	reg, _ := s.reg.Signatory(attest.RegistrarID)
	rotated = s.sign(&attest.Registrar{Action: "rotate", Origin: origin, Seq: reg.Seq + 1, Prev: reg.Head, Key: rpk}, s.demo.Registrar, regKey)
	s.append(rotated)
	return recovered, rotated
}
