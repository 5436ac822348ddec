package client

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"
)

// NewHTTP returns the HTTP client that every pledgelog command makes its
// requests with: up to 64 idle connections per host (for parallel
// fetches), each request bounded by timeout (0 means 30 seconds), and a
// User-Agent header naming the tool and its version (see Agent), so that
// an operator can tell its readers apart.
func NewHTTP(agent string, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	return &http.Client{Transport: &agentTransport{base: tr, agent: agent}, Timeout: timeout}
}

// Agent returns the User-Agent of tool: "tool/version", the version being
// the module's as the build recorded it ("(devel)" for a build from a
// checkout), followed by "pledgelog". An empty tool means the running
// program's name (pledge, pledgelog, pledge-verify).
func Agent(tool string) string {
	if tool == "" {
		tool = filepath.Base(os.Args[0])
	}
	return tool + "/" + Version() + " pledgelog"
}

// Version returns the main module's version as the build recorded it:
// "(devel)" for a build from a checkout.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// agentTransport sets the User-Agent of requests that have none.
type agentTransport struct {
	base  http.RoundTripper
	agent string
}

func (t *agentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" && t.agent != "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.agent)
	}
	return t.base.RoundTrip(req)
}
