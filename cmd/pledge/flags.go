package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
)

// flagEnv names the command's environment variables: --url is
// PLEDGE_URL.
const flagEnv = cli.Env("PLEDGE_")

// newFlags returns the flag set of a command; synopsis follows its name in
// the usage message.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return flagEnv.NewFlags("pledge", name, synopsis, stderr)
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

// commandLineOnly are the flags that name what one run works on or says
// (a PLEDGE_STATEMENT left set would be signed into every pledge), or
// that mean different files in different commands (--out: keygen's key,
// sign's envelope, request's request).
var commandLineOnly = []string{"out", "in", "file", "bundle", "new-key", "keyid", "reason", "void-from",
	"accord", "principle", "status", "statement", "evidence", "effective", "supersedes",
	"action", "name", "website", "type"}

// common are the flags every command that talks to a log or reads keys has.
type common struct {
	url, configDir string
	json           bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "the log's URL")
	fs.StringVar(&c.configDir, "config-dir", defaultConfigDir(), "where keys are kept")
	fs.BoolVar(&c.json, "json", false, "print the result as JSON")
}

func defaultConfigDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ".pledge"
	}
	return filepath.Join(dir, "pledge")
}

// keyFlag is the --key flag: the private key file, by default key.pem in
// the config directory.
func (c *common) keyFile(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return filepath.Join(c.configDir, "key.pem")
}

// print writes v as JSON with --json, else text.
func (c *common) print(w io.Writer, v any, text string) error {
	if !c.json {
		_, err := fmt.Fprint(w, text)
		return err
	}
	return cli.PrintJSON(w, v)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }
