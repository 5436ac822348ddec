package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	vclient "github.com/pledgelog/pledgelog/verify/client"
)

// certReloader is serve's TLS certificate: the pair of PEM files that
// --tls-cert and --tls-key name, read at start and again on every SIGHUP.
// The certificate in use is swapped atomically, so a handshake sees the
// old pair or the new one, never a mix; a new pair that does not load
// (unreadable, not a pair, expired) is refused with an error in the log
// and the old one stays.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time
	cur               atomic.Pointer[tls.Certificate]
	hup               chan os.Signal
}

// newCertReloader loads the pair and starts listening for SIGHUP at once,
// so that a SIGHUP sent once serve says it serves reloads instead of
// killing the process. Call stop when done.
func newCertReloader(certFile, keyFile string, logger *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger, now: time.Now}
	c, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(c)
	r.hup = make(chan os.Signal, 1)
	signal.Notify(r.hup, syscall.SIGHUP)
	logger.Info("TLS certificate loaded", r.describe(c)...)
	return r, nil
}

// load reads and checks the pair.
func (r *certReloader) load() (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", r.certFile, r.keyFile, err)
	}
	if now := r.now(); now.After(c.Leaf.NotAfter) {
		return nil, fmt.Errorf("--tls-cert %s: the certificate expired on %s", r.certFile, c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &c, nil
}

func (r *certReloader) describe(c *tls.Certificate) []any {
	return []any{"file", r.certFile, "subject", c.Leaf.Subject.String(), "dns", c.Leaf.DNSNames,
		"serial", c.Leaf.SerialNumber.String(), "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339)}
}

// reload loads the pair again and uses it if it loads.
func (r *certReloader) reload() error {
	c, err := r.load()
	if err != nil {
		return err
	}
	r.cur.Store(c)
	return nil
}

// config is the TLS configuration that serves the current certificate.
func (r *certReloader) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.cur.Load(), nil
		},
	}
}

// run reloads the pair on every SIGHUP until ctx is done.
func (r *certReloader) run(ctx context.Context) error {
	defer signal.Stop(r.hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.hup:
			if err := r.reload(); err != nil {
				r.logger.Error("SIGHUP: the new TLS certificate was not loaded; still serving the old one", "err", err)
				continue
			}
			r.logger.Info("SIGHUP: TLS certificate reloaded", r.describe(r.cur.Load())...)
		}
	}
}

// checkTLSFlags checks --tls-cert and --tls-key: both or neither.
func checkTLSFlags(cert, key string) error {
	if (cert == "") != (key == "") {
		return usageError{Err: errors.New("--tls-cert and --tls-key go together")}
	}
	return nil
}

// localServer is the running serve of a data directory, as its serve.url
// says: the URL and the HTTP client to reach it with. For a serve with
// --tls-cert the file names the certificate file, and the client accepts
// exactly a certificate of that file, whatever names it has: the
// operator's commands reach their own server by its listen address,
// which the certificate need not name.
func localServer(d dataDir, timeout time.Duration) (string, *http.Client, error) {
	b, err := os.ReadFile(d.urlFile())
	if err != nil {
		return "", nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n") // the URL, "pid N", ["tls-cert FILE"]
	url := strings.TrimSpace(lines[0])
	var certFile string
	for _, l := range lines[1:] {
		if f, ok := strings.CutPrefix(l, "tls-cert "); ok {
			certFile = f
		}
	}
	if certFile == "" {
		return url, vclient.NewHTTP(vclient.Agent(""), timeout), nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{
		InsecureSkipVerify: true, // VerifyConnection pins the certificate instead
		VerifyConnection: func(cs tls.ConnectionState) error {
			return pinnedCert(certFile, cs.PeerCertificates)
		},
	}
	return url, &http.Client{Transport: agentSetter{tr}, Timeout: timeout}, nil
}

// pinnedCert accepts a peer whose certificate is one of certFile's.
func pinnedCert(certFile string, peer []*x509.Certificate) error {
	data, err := os.ReadFile(certFile)
	if err != nil {
		return fmt.Errorf("the server's certificate file (serve.url): %w", err)
	}
	if len(peer) == 0 {
		return errors.New("the server sent no certificate")
	}
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		if b.Type == "CERTIFICATE" && bytes.Equal(b.Bytes, peer[0].Raw) {
			return nil
		}
	}
	return fmt.Errorf("the server's certificate is not the one in %s", certFile)
}

// agentSetter sets the User-Agent of pledgelog's requests.
type agentSetter struct{ base http.RoundTripper }

func (t agentSetter) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", vclient.Agent(""))
	return t.base.RoundTrip(req)
}
