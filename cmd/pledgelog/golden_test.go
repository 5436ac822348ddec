package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/demo-golden.txt from this build")

// TestDemoGolden holds what the demo log derives and serves to the bytes:
// every derived row, every entry's bundle on the demo's checkpoint, and
// the registry and search answers of the API, for a fixed demo seed. It
// was made from the code before the attestation log moved out of web
// (issue 13), so that the move is shown to change nothing a reader sees.
//
// The log key is random at init, so the lines it signs are replaced by a
// placeholder first: the signature lines of notes, and the vkey and key
// hash wherever they appear. Everything else must match.
//
// After an intended change of output: go test -run TestDemoGolden -update-golden.
func TestDemoGolden(t *testing.T) {
	d := dataDir(filepath.Join(t.TempDir(), "demo"))
	const origin = "example.com/golden"
	if code, stdout, stderr := pledgelog(t, nil, "init", "--demo", "--demo-seed", "golden", "--data", string(d), "--origin", origin); code != 0 {
		t.Fatalf("init --demo = %d: %s%s", code, stdout, stderr)
	}
	got := map[string][]byte{}
	for _, row := range rowsOf(t, d) {
		table, rest, _ := strings.Cut(row, " ")
		key, value, _ := strings.Cut(rest, " ")
		got["row "+table+" "+key] = []byte(value)
	}

	s := startServe(t, d, "--read-rate", "-1") // ~215 reads, faster than the default read limit allows
	logInfo := goldenGet(t, s.url+"/api/v1/log")
	var info struct {
		Size uint64 `json:"size"`
		VKey string `json:"vkey"`
	}
	if err := json.Unmarshal(logInfo, &info); err != nil || info.VKey == "" || info.Size != 172 {
		t.Fatalf("/api/v1/log = %s (%v)", logInfo, err)
	}
	got["GET /api/v1/log"] = logInfo
	for i := range info.Size {
		path := fmt.Sprintf("/api/v1/entries/%d/bundle", i)
		got["GET "+path] = goldenGet(t, s.url+path)
	}
	var sigs struct {
		Signatories []struct {
			ID string `json:"id"`
		} `json:"signatories"`
	}
	list := goldenGet(t, s.url+"/api/v1/signatories")
	if err := json.Unmarshal(list, &sigs); err != nil || len(sigs.Signatories) != 34 {
		t.Fatalf("/api/v1/signatories: %d signatories (%v), want 34", len(sigs.Signatories), err)
	}
	got["GET /api/v1/signatories"] = list
	paths := []string{"/api/v1/accords", "/api/v1/search?signatory=microsoft", "/api/v1/search?signatory=arm&status=committed",
		"/api/v1/search?status=committed&limit=50", "/api/v1/search?status=withdrawn", "/api/v1/signatories?limit=5"}
	for _, sig := range sigs.Signatories {
		paths = append(paths, "/api/v1/signatories/"+sig.ID)
	}
	for _, path := range paths {
		got["GET "+path] = goldenGet(t, s.url+path)
	}
	s.stop(t)

	normal := keyNormalizer(t, origin, info.VKey)
	sums := map[string]string{}
	for name, body := range got {
		sum := sha256.Sum256(normal(body))
		sums[name] = hex.EncodeToString(sum[:])
	}
	file := filepath.Join("testdata", "demo-golden.txt")
	if *updateGolden {
		writeGolden(t, file, sums)
		return
	}
	want := readGolden(t, file)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		switch g, ok := sums[name]; {
		case !ok:
			t.Errorf("%s: no longer served or derived", name)
		case g != want[name]:
			t.Errorf("%s changed; now:\n%.2000s", name, normal(got[name]))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(sums)) {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: new, not in %s; now:\n%.2000s", name, file, normal(got[name]))
		}
	}
}

// keyNormalizer returns a func that replaces what depends on the log key:
// note signature lines by the origin, the vkey, and the vkey's key hash
// and public key in base64 and hex.
func keyNormalizer(t *testing.T, origin, vkey string) func([]byte) []byte {
	t.Helper()
	name, b64, ok := strings.Cut(vkey, "+")
	if !ok || name != origin {
		t.Fatalf("vkey %q", vkey)
	}
	_, keyB64, _ := strings.Cut(b64, "+")
	sigLine := regexp.MustCompile(`(\x{2014} ` + regexp.QuoteMeta(origin) + `) [A-Za-z0-9+/=]+`)
	escaped := regexp.MustCompile(`(\\u2014 ` + regexp.QuoteMeta(origin) + `) [A-Za-z0-9+/=]+`)
	return func(b []byte) []byte {
		b = sigLine.ReplaceAll(b, []byte("$1 LOG-SIGNATURE"))
		b = escaped.ReplaceAll(b, []byte("$1 LOG-SIGNATURE"))
		s := strings.ReplaceAll(string(b), vkey, "LOG-VKEY")
		return []byte(strings.ReplaceAll(s, keyB64, "LOG-KEY"))
	}
}

func goldenGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d (%v): %.500s", url, resp.StatusCode, err, body)
	}
	return body
}

func writeGolden(t *testing.T, file string, sums map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# TestDemoGolden: sha256 of each derived row and served answer of the demo\n")
	b.WriteString("# (seed \"golden\"), log-key parts replaced; see golden_test.go.\n")
	for _, name := range slices.Sorted(maps.Keys(sums)) {
		fmt.Fprintf(&b, "%s %s\n", sums[name], name)
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readGolden(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("%v (make it with -update-golden)", err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			sum, name, _ := strings.Cut(line, " ")
			want[name] = sum
		}
	}
	if err := sc.Err(); err != nil || len(want) == 0 {
		t.Fatalf("%s: %d sums (%v)", file, len(want), err)
	}
	return want
}
