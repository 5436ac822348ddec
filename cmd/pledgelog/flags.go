package main

import (
	"flag"
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

// parse sets each flag from its environment variable, if set, and then
// from args, which win. It takes no positional arguments.
func parse(fs *flag.FlagSet, args []string) error { return flagEnv.Parse(fs, args) }

// levelFlag is a slog level flag: debug, info, warn or error.
type levelFlag struct{ slog.Level }

func (l *levelFlag) Set(s string) error { return l.UnmarshalText([]byte(s)) }

// newLogger returns the text logger to stderr that every command uses.
func newLogger(stderr io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}
