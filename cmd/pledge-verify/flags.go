package main

import (
	"flag"
	"io"
	"os"
	"strings"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
)

// flagEnv names the command's environment variables: --log-key is
// PLEDGE_VERIFY_LOG_KEY.
const flagEnv = cli.Env("PLEDGE_VERIFY_")

// newFlags returns the flag set of a command; synopsis follows its name in
// the usage message.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return flagEnv.NewFlags("pledge-verify", name, synopsis, stderr)
}

// parse sets each flag from its environment variable, if set, and then
// from args, which win, allowing flags after positional arguments; it
// returns the positional arguments, and wants exactly npos of them (-1:
// any number). What one run works on (--index, --entry, --exec, --once)
// is command line only.
func parse(fs *flag.FlagSet, args []string, npos int) ([]string, error) {
	for _, n := range []string{"index", "entry", "exec", "once", "tlog-proof", "out", "name"} {
		if fs.Lookup(n) != nil {
			cli.CommandLine(fs, n)
		}
	}
	return flagEnv.ParseArgs(fs, args, npos)
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// readFile reads a file named on the command line; failing is a usage
// error.
func readFile(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usageError{Err: err}
	}
	return b, nil
}
