package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Env names a program's environment variables: the prefix of every flag's
// variable ("PLEDGELOG_", with "--log-level" as PLEDGELOG_LOG_LEVEL).
type Env string

// Name returns the environment variable of the flag name.
func (e Env) Name(flag string) string {
	return string(e) + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// NewFlags returns the flag set of a command of prog; synopsis follows its
// name in the usage message, which lists each flag's variable.
func (e Env) NewFlags(prog, name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s %s %s\n\nflags (and environment variables):\n", prog, name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			variable := e.Name(f.Name)
			if _, ok := f.Value.(CommandLineOnly); ok {
				variable = "command line only"
			}
			fmt.Fprintf(stderr, "  --%s (%s)\n\t%s", f.Name, variable, f.Usage)
			if f.DefValue != "" {
				fmt.Fprintf(stderr, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	return fs
}

// CommandLineOnly is a flag value that Parse does not take from the
// environment: a flag that shares its name, and so its variable, with
// other commands' flags of another meaning (bench's --url switches the
// bench to remote servers; the clients' PLEDGELOG_URL must not).
type CommandLineOnly interface {
	flag.Value
	CommandLineOnly()
}

// Parse sets each flag from its environment variable, if set, and then
// from args, which win. It takes no positional arguments. Bad values are
// UsageErrors naming the flag or the variable.
func (e Env) Parse(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := f.Value.(CommandLineOnly); ok {
			return
		}
		if v, ok := os.LookupEnv(e.Name(f.Name)); ok && err == nil {
			if setErr := f.Value.Set(v); setErr != nil {
				err = Usagef("%s=%q: %v", e.Name(f.Name), v, setErr)
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
		return UsageError{err}
	}
	if fs.NArg() > 0 {
		return Usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
