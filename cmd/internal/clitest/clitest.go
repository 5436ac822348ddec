// Package clitest runs the bad-input suites of the pledgelog, pledge and
// pledge-verify commands: tables of command lines given bad files and
// flags, kept as data in each command's testdata/badinput/cli.json, each
// with the exit status it must end with and what its message must name.
// Only tests import it.
//
// A case is a JSON object:
//
//	{"name": "sign: key file is not PEM",
//	 "files": {"bad.pem": "not a key", "bin.pem": {"b64": "/w=="}},
//	 "args": ["sign", "--key", "bad.pem", ...],
//	 "env": {"PLEDGE_URL": "{{url}}"},
//	 "exit": 1, "stderr": ["bad.pem"]}
//
// Each case runs in its own new directory, holding its files, with the
// command's environment plus env. Strings may hold {{name}} variables that
// the test supplies and {{rep N "s"}}, the Go string literal s repeated N
// times. The run must exit with exit within a minute, print each of stderr
// on its standard error, and never panic or print a Go stack trace or
// source path.
package clitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Case is one command line of a suite.
type Case struct {
	Name   string            `json:"name"`
	Files  map[string]File   `json:"files"`
	Args   []string          `json:"args"`
	Env    map[string]string `json:"env"`
	Exit   int               `json:"exit"`
	Stderr []string          `json:"stderr"`
}

// File is the content of a file of a case: a JSON string, or {"b64": …}
// for bytes that are not UTF-8, or {"copy": PATH} for a file the test
// made (PATH after variable expansion).
type File struct {
	Text string
	B64  string `json:"b64"`
	Copy string `json:"copy"`
}

func (f *File) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.Text)
	}
	type plain File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(f))
}

// Suite is a command and what its cases may refer to.
type Suite struct {
	Binary string            // the command, built by the test
	Env    []string          // its environment
	Vars   map[string]string // {{name}} → value
	// Prepare, if not nil, runs in each case's directory before the
	// command, e.g. to make a key that the case's files stand beside.
	Prepare func(t *testing.T, dir string)
}

// leaks are what no message may hold: a panic, a Go stack trace, a source
// path.
var leaks = []string{"panic", "goroutine ", ".go:", "runtime."}

// ReadJSON decodes the JSON file into a T, refusing unknown fields, and
// fails the test if it cannot.
func ReadJSON[T any](t *testing.T, file string) T {
	t.Helper()
	var v T
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return v
}

// Load reads the cases of file, checking that each has a unique name and
// says what its message must name.
func Load(t *testing.T, file string) []Case {
	t.Helper()
	cases := ReadJSON[[]Case](t, file)
	names := map[string]bool{}
	for _, c := range cases {
		if c.Name == "" || names[c.Name] || len(c.Args) == 0 || c.Exit == 0 || len(c.Stderr) == 0 {
			t.Fatalf("%s: case %q needs a unique name, args, a non-zero exit and what stderr names", file, c.Name)
		}
		names[c.Name] = true
	}
	return cases
}

// Run runs every case of file as a subtest.
func (s *Suite) Run(t *testing.T, file string) {
	for _, c := range Load(t, file) {
		t.Run(c.Name, func(t *testing.T) { s.run(t, c) })
	}
}

var repeat = regexp.MustCompile(`\{\{rep (\d+) ("(?:[^"\\]|\\.)*")\}\}`)

// Expand replaces the variables of text.
func (s *Suite) Expand(t *testing.T, text string) string {
	for _, k := range slices.Sorted(maps.Keys(s.Vars)) {
		text = strings.ReplaceAll(text, "{{"+k+"}}", s.Vars[k])
	}
	return repeat.ReplaceAllStringFunc(text, func(m string) string {
		sub := repeat.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[1])
		unit, err := strconv.Unquote(sub[2])
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		return strings.Repeat(unit, n)
	})
}

func (s *Suite) run(t *testing.T, c Case) {
	dir := t.TempDir()
	if s.Prepare != nil {
		s.Prepare(t, dir)
	}
	for name, f := range c.Files {
		s.write(t, filepath.Join(dir, s.Expand(t, name)), f)
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = s.Expand(t, a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Binary, args...)
	cmd.Dir = dir
	cmd.Env = slices.Clone(s.Env)
	for k, v := range c.Env {
		cmd.Env = append(cmd.Env, k+"="+s.Expand(t, v))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	if ctx.Err() != nil {
		t.Fatalf("%s %q still running after a minute: killed", filepath.Base(s.Binary), args)
	}
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	code := cmd.ProcessState.ExitCode()
	if code != c.Exit {
		t.Errorf("%s %q = exit %d, want %d:\n%s%s", filepath.Base(s.Binary), args, code, c.Exit, stdout.String(), stderr.String())
	}
	for _, w := range c.Stderr {
		if w = s.Expand(t, w); !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr does not name %q:\n%.2000s", w, stderr.String())
		}
	}
	for _, l := range leaks {
		if strings.Contains(stdout.String()+stderr.String(), l) {
			t.Errorf("output holds %q:\n%s%s", l, stdout.String(), stderr.String())
		}
	}
}

func (s *Suite) write(t *testing.T, path string, f File) {
	data := []byte(s.Expand(t, f.Text))
	switch {
	case f.B64 != "":
		b, err := base64.StdEncoding.DecodeString(f.B64)
		if err != nil {
			t.Fatalf("%s: b64: %v", path, err)
		}
		data = b
	case f.Copy != "":
		b, err := os.ReadFile(s.Expand(t, f.Copy))
		if err != nil {
			t.Fatal(err)
		}
		data = b
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
