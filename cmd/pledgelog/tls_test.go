package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCert makes a self-signed certificate for 127.0.0.1 with serial,
// valid until notAfter, and returns its PEM certificate and key.
func testCert(t *testing.T, serial int64, notAfter time.Time) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "pledgelog test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"pledgelog.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), cert
}

// writeFileAtomic replaces name with data, as a certificate renewal does.
func writeFileAtomic(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name+".new", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(name+".new", name); err != nil {
		t.Fatal(err)
	}
}

// TestServeTLS serves a log with --tls-cert and --tls-key and checks that
// a client trusting only the test's certificates reads /checkpoint over
// HTTPS; that SIGHUP after the files were replaced makes new connections
// get the second certificate; that a bad new pair (a certificate with
// another's key, then an expired one) is refused with an error logged and
// the second certificate kept; that the local commands reach the TLS
// server through serve.url (registrar key, which reads the running
// server); and the flag errors.
func TestServeTLS(t *testing.T) {
	d, vkey := mustInit(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certA, keyA, a := testCert(t, 1001, time.Now().Add(24*time.Hour))
	certB, keyB, b := testCert(t, 1002, time.Now().Add(24*time.Hour))
	writeFileAtomic(t, certFile, certA)
	writeFileAtomic(t, keyFile, keyA)

	s := startServe(t, d, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(s.url, "https://127.0.0.1:") {
		t.Fatalf("serve with TLS printed URL %q, want https://127.0.0.1:…", s.url)
	}
	roots := x509.NewCertPool()
	roots.AddCert(a)
	roots.AddCert(b)
	httpc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}}
	// served returns the serial of the certificate a new connection gets,
	// and checks the checkpoint it reads.
	served := func() int64 {
		t.Helper()
		resp, err := httpc.Get(s.url + "/checkpoint")
		if err != nil {
			t.Fatalf("GET /checkpoint over TLS: %v: %s", err, s.stderr.String())
		}
		defer resp.Body.Close()
		body := make([]byte, 4096)
		n, _ := resp.Body.Read(body)
		if resp.StatusCode != http.StatusOK || resp.TLS == nil {
			t.Fatalf("GET /checkpoint over TLS = %d, TLS %v", resp.StatusCode, resp.TLS != nil)
		}
		verifiedSize(t, body[:n], vkey)
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if got := served(); got != 1001 {
		t.Fatalf("served certificate %d, want the first, 1001", got)
	}
	// A client that does not trust the certificate is refused: the server
	// really serves the file's certificate, not some other.
	if _, err := http.Get(s.url + "/checkpoint"); err == nil {
		t.Error("a client with the system roots accepted the test's self-signed certificate")
	}
	// Plain HTTP on the TLS port gets no log.
	if resp, err := http.Get("http" + strings.TrimPrefix(s.url, "https") + "/checkpoint"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP on the TLS port was served")
		}
		resp.Body.Close()
	}

	writeFileAtomic(t, certFile, certB)
	writeFileAtomic(t, keyFile, keyB)
	s.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for served() != 1002 {
		if time.Now().After(deadline) {
			t.Fatalf("after SIGHUP, still served the first certificate: %s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	certC, keyC, _ := testCert(t, 1003, time.Now().Add(-time.Minute))
	for i, bad := range []struct{ cert, key []byte }{{certA, keyB}, {certC, keyC}} {
		before := strings.Count(s.stderr.String(), "was not loaded")
		writeFileAtomic(t, certFile, bad.cert)
		writeFileAtomic(t, keyFile, bad.key)
		s.cmd.Process.Signal(syscall.SIGHUP)
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(s.stderr.String(), "was not loaded") == before {
			if time.Now().After(deadline) {
				t.Fatalf("bad pair %d: no error logged after SIGHUP: %s", i, s.stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := served(); got != 1002 {
			t.Errorf("after bad pair %d and SIGHUP, served certificate %d, want the second, 1002", i, got)
		}
	}
	if !strings.Contains(s.stderr.String(), "expired") || !strings.Contains(s.stderr.String(), "private key does not match") {
		t.Errorf("the errors do not say what is wrong: %s", s.stderr.String())
	}
	writeFileAtomic(t, certFile, certB)
	writeFileAtomic(t, keyFile, keyB)

	// The operator's commands pin the served certificate from serve.url.
	if b, _ := os.ReadFile(d.urlFile()); !strings.Contains(string(b), "\ntls-cert "+certFile+"\n") {
		t.Errorf("serve.url = %q, want a tls-cert line naming %s", b, certFile)
	}
	if code, stdout, stderr := pledgelog(t, nil, "registrar", "key", "--id", "--data", string(d)); code != 0 || len(strings.TrimSpace(stdout)) != 64 {
		t.Errorf("registrar key through the TLS server = %d, %q: %s", code, stdout, stderr)
	}
	s.stop(t)

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--tls-cert", certFile}, 2, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-key", keyFile}, 2, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", filepath.Join(dir, "nosuch.pem"), "--tls-key", keyFile}, 2, "--tls-cert " + filepath.Join(dir, "nosuch.pem")},
		{[]string{"--tls-cert", certFile, "--tls-key", certFile}, 2, "--tls-key " + certFile},
	} {
		args := append([]string{"serve", "--data", string(d), "--listen", "127.0.0.1:0"}, tc.args...)
		if code, _, stderr := pledgelog(t, nil, args...); code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("serve %q = %d: %s; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
