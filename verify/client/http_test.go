package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pledgelog/pledgelog/verify/client"
)

// TestUserAgent checks that the requests of NewHTTP's client and of a
// Client carry the tool's User-Agent, that a caller's own header wins,
// and that the timeout bounds a request.
func TestUserAgent(t *testing.T) {
	agents := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		agents <- r.UserAgent()
		if r.URL.Path == "/slow" {
			time.Sleep(500 * time.Millisecond)
		}
		w.Write([]byte("x"))
	}))
	defer srv.Close()

	hc := client.NewHTTP(client.Agent("pledge"), 200*time.Millisecond)
	resp, err := hc.Get(srv.URL + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := <-agents; !strings.HasPrefix(got, "pledge/") || !strings.HasSuffix(got, " pledgelog") {
		t.Errorf("User-Agent %q, want pledge/VERSION pledgelog", got)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/own", nil)
	req.Header.Set("User-Agent", "mine")
	if resp, err = hc.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := <-agents; got != "mine" {
		t.Errorf("User-Agent %q, want the caller's own", got)
	}
	if resp, err := hc.Get(srv.URL + "/slow"); err == nil {
		resp.Body.Close()
		t.Error("a 500 ms answer came through a 200 ms timeout")
	}
	<-agents

	c, err := client.New(client.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := <-agents, client.Agent(""); got != want || !strings.HasPrefix(got, "client.test/") {
		t.Errorf("a Client's User-Agent %q, want %q naming the program", got, want)
	}
}
