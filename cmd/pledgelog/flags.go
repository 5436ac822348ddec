package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
)

// flagEnv names the command's environment variables: --log-level is
// PLEDGELOG_LOG_LEVEL.
const flagEnv = cli.Env("PLEDGELOG_")

// newFlags returns the flag set of a command; synopsis follows its name in
// the usage message.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return flagEnv.NewFlags("pledgelog", name, synopsis, stderr)
}

// parse sets each flag from args, and each flag args do not set from its
// environment variable, if set. It takes no positional arguments.
// commandLineOnly flags take no variable.
func parse(fs *flag.FlagSet, args []string) error {
	for _, n := range commandLineOnly {
		if fs.Lookup(n) != nil {
			cli.CommandLine(fs, n)
		}
	}
	return flagEnv.Parse(fs, args)
}

// commandLineOnly are the flags that name what one run works on, or mean
// different things in different commands (--id: a signatory id, or
// registrar key's "print the id"): a PLEDGELOG_ID left set would apply to
// every run.
var commandLineOnly = []string{"id", "keyid", "reason", "void-from", "request", "key", "file", "new-key", "from", "to"}

// levelFlag is a slog level flag: debug, info, warn or error.
type levelFlag struct{ slog.Level }

func (l *levelFlag) Set(s string) error { return l.UnmarshalText([]byte(s)) }

// logFlags are the logging flags of every command that logs: --log-level
// and --log-format.
type logFlags struct {
	level levelFlag
	json  bool
}

// register defines the logging flags on fl.
func (f *logFlags) register(fl *flag.FlagSet) {
	fl.Var(&f.level, "log-level", "debug, info, warn or error (info: serve's access log too, a line per request)")
	fl.Func("log-format", "text or json (one JSON object per line, for log collectors)", func(s string) error {
		switch s {
		case "text", "json":
			f.json = s == "json"
			return nil
		}
		return fmt.Errorf("%q is not text or json", s)
	})
}

// args returns the flags that give another command the same logging.
func (f *logFlags) args() []string {
	format := "text"
	if f.json {
		format = "json"
	}
	return []string{"--log-level", f.level.String(), "--log-format", format}
}

// logger returns the logger to stderr that the flags ask for.
func (f *logFlags) logger(stderr io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: f.level.Level}
	if f.json {
		return slog.New(slog.NewJSONHandler(stderr, opts))
	}
	return slog.New(slog.NewTextHandler(stderr, opts))
}

// newLogger returns the text logger to stderr at level.
func newLogger(stderr io.Writer, level slog.Level) *slog.Logger {
	f := logFlags{level: levelFlag{level}}
	return f.logger(stderr)
}
