package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// newFlags returns the flag set of a command; synopsis follows its name in
// the usage message.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pledge %s %s\n\nflags (and environment variables):\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  --%s (%s)\n\t%s", f.Name, envName(f.Name), f.Usage)
			if f.DefValue != "" {
				fmt.Fprintf(stderr, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	return fs
}

// envName is the environment variable of flag name: "config-dir" is
// PLEDGE_CONFIG_DIR.
func envName(name string) string {
	return "PLEDGE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parse sets each flag from its environment variable, if set, and then
// from args, which win. It takes no positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = usagef("%s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }
