package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
)

func TestDispatch(t *testing.T) {
	ran := ""
	cmds := map[string]Command{"go": func(_ context.Context, args []string, _, _ io.Writer) error {
		ran = "go"
		if len(args) > 0 && args[0] == "-h" {
			return flag.ErrHelp
		}
		return nil
	}}
	for _, tc := range []struct {
		args  []string
		usage bool // a UsageError
		ran   string
	}{
		{nil, true, ""}, {[]string{"nope"}, true, ""}, {[]string{"help"}, false, ""},
		{[]string{"go"}, false, "go"}, {[]string{"go", "-h"}, false, "go"},
	} {
		ran = ""
		var out, errOut bytes.Buffer
		err := Dispatch(context.Background(), tc.args, &out, &errOut, "usage\n", cmds)
		if IsUsage(err) != tc.usage || ran != tc.ran || (!tc.usage && err != nil) {
			t.Errorf("Dispatch(%q) = %v, ran %q; want usage error %v, ran %q", tc.args, err, ran, tc.usage, tc.ran)
		}
	}
}

func TestEnvParse(t *testing.T) {
	const env = Env("CLITEST_")
	if got := env.Name("log-level"); got != "CLITEST_LOG_LEVEL" {
		t.Fatalf("Name(log-level) = %q", got)
	}
	newSet := func() (*flag.FlagSet, *int) {
		fs := env.NewFlags("prog", "cmd", "", io.Discard)
		return fs, fs.Int("n-items", 1, "items")
	}
	t.Setenv("CLITEST_N_ITEMS", "5")
	fs, n := newSet()
	if err := env.Parse(fs, nil); err != nil || *n != 5 {
		t.Fatalf("Parse with CLITEST_N_ITEMS=5 = %v, n %d; want 5", err, *n)
	}
	fs, n = newSet()
	if err := env.Parse(fs, []string{"--n-items", "7"}); err != nil || *n != 7 {
		t.Fatalf("Parse(--n-items 7) = %v, n %d; want the flag to win", err, *n)
	}
	fs, _ = newSet()
	if err := env.Parse(fs, []string{"extra"}); !IsUsage(err) {
		t.Fatalf("Parse(extra) = %v, want a usage error", err)
	}
	t.Setenv("CLITEST_N_ITEMS", "x")
	fs, _ = newSet()
	if err := env.Parse(fs, nil); !IsUsage(err) || !errors.As(err, new(UsageError)) {
		t.Fatalf("Parse with CLITEST_N_ITEMS=x = %v, want a usage error", err)
	}
}

// onlyFlag is a string flag Parse must not take from the environment.
type onlyFlag struct{ v *string }

func (f onlyFlag) CommandLineOnly()   {}
func (f onlyFlag) String() string     { return "" }
func (f onlyFlag) Set(s string) error { *f.v = s; return nil }

// TestCommandLineOnly: a CommandLineOnly flag ignores its variable, takes
// the command line, and its usage line says so.
func TestCommandLineOnly(t *testing.T) {
	const env = Env("CLITEST_")
	t.Setenv("CLITEST_URL", "http://from-env")
	var usage bytes.Buffer
	newSet := func() (*flag.FlagSet, *string) {
		var v string
		fs := env.NewFlags("prog", "cmd", "", &usage)
		fs.Var(onlyFlag{&v}, "url", "servers")
		return fs, &v
	}
	fs, v := newSet()
	if err := env.Parse(fs, nil); err != nil || *v != "" {
		t.Fatalf("Parse with CLITEST_URL set = %v, url %q; want it ignored", err, *v)
	}
	fs, v = newSet()
	if err := env.Parse(fs, []string{"--url", "http://x"}); err != nil || *v != "http://x" {
		t.Fatalf("Parse(--url http://x) = %v, url %q", err, *v)
	}
	fs.Usage()
	if !bytes.Contains(usage.Bytes(), []byte("--url URL (command line only)")) {
		t.Errorf("usage does not say --url is command line only:\n%s", usage.String())
	}
}

// TestVersion: version, --version and -version print the program, the
// module's version and Go's; version takes no arguments.
func TestVersion(t *testing.T) {
	cmds := map[string]Command{"version": VersionCommand("prog")}
	for _, arg := range []string{"version", "--version", "-version"} {
		var out bytes.Buffer
		if err := Dispatch(context.Background(), []string{arg}, &out, io.Discard, "usage\n", cmds); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if !regexp.MustCompile(`^prog \S+( [0-9a-f]{1,12}(\+dirty)?)? go1\.\d+\S*\n$`).MatchString(out.String()) {
			t.Errorf("%s printed %q, want \"prog VERSION [COMMIT] GOVERSION\"", arg, out.String())
		}
	}
	if err := Dispatch(context.Background(), []string{"version", "x"}, io.Discard, io.Discard, "usage\n", cmds); !IsUsage(err) {
		t.Errorf("version x = %v, want a usage error", err)
	}
	if err := Dispatch(context.Background(), []string{"--version"}, io.Discard, io.Discard, "usage\n", map[string]Command{}); !IsUsage(err) {
		t.Errorf("--version without a version command = %v, want a usage error", err)
	}
}

// TestHelpOnStdout: a command's -h and a group's -h print help on stdout
// and are not errors; a bad flag prints the usage on stderr, a usage
// error; a group without its subcommand is a usage error.
func TestHelpOnStdout(t *testing.T) {
	const env = Env("CLITEST_")
	leaf := func(_ context.Context, args []string, _, stderr io.Writer) error {
		fs := env.NewFlags("prog", "grp leaf", "[--n N]", stderr)
		fs.Int("n", 1, "items")
		return env.Parse(fs, args)
	}
	g := Group{Usage: "usage: prog grp leaf\n", Commands: map[string]Command{"leaf": leaf}}
	cmds := map[string]Command{"grp": g.Run}
	for _, tc := range []struct {
		args         []string
		code         int
		stdout, errs string // what each must hold ("" : must be empty)
	}{
		{[]string{"grp", "leaf", "-h"}, 0, "--n N (CLITEST_N)", ""},
		{[]string{"grp", "leaf", "--help"}, 0, "usage: prog grp leaf", ""},
		{[]string{"grp", "-h"}, 0, "usage: prog grp leaf", ""},
		{[]string{"grp", "leaf", "--bad"}, 2, "", "--n N (CLITEST_N)"},
		{[]string{"grp"}, 2, "", "usage: prog grp"},
		{[]string{"grp", "nosuch"}, 2, "", "usage: prog grp"},
	} {
		var out, errOut bytes.Buffer
		err := Dispatch(context.Background(), tc.args, &out, &errOut, "usage: prog\n", cmds)
		if ExitCode(err) != tc.code || (tc.stdout == "") != (out.Len() == 0) || !bytes.Contains(out.Bytes(), []byte(tc.stdout)) ||
			(tc.errs == "") != (errOut.Len() == 0) || !bytes.Contains(errOut.Bytes(), []byte(tc.errs)) {
			t.Errorf("%q = %v (exit %d), stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, err, ExitCode(err), out.String(), errOut.String(), tc.code, tc.stdout, tc.errs)
		}
	}
}

// TestExitCode: 0, 1 only for a Failure or a listed failure, 2 else.
func TestExitCode(t *testing.T) {
	sentinel := errors.New("rollback")
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, 0}, {Failed(errors.New("bad")), 1}, {fmt.Errorf("x: %w", Failed(errors.New("bad"))), 1},
		{fmt.Errorf("x: %w", sentinel), 1}, {errors.New("open f: no such file"), 2}, {Usagef("bad"), 2},
	} {
		if got := ExitCode(tc.err, sentinel); got != tc.code {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
	if Failed(nil) != nil {
		t.Error("Failed(nil) is not nil")
	}
}

// TestEnvRepeatable: a repeatable flag given on the command line takes
// none of its variable's values; without it, the variable's.
func TestEnvRepeatable(t *testing.T) {
	const env = Env("CLITEST_")
	t.Setenv("CLITEST_KEY", "from-env")
	for _, tc := range []struct {
		args []string
		want string
	}{{nil, "from-env"}, {[]string{"--key", "a", "--key", "b"}, "a,b"}} {
		var l list
		fs := env.NewFlags("prog", "cmd", "", io.Discard)
		fs.Var(&l, "key", "keys")
		if err := env.Parse(fs, tc.args); err != nil || l.String() != tc.want {
			t.Errorf("Parse(%q) = %v, keys %q; want %q", tc.args, err, l.String(), tc.want)
		}
	}
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }
