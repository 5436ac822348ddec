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
// name in the usage message, which lists each flag as
//
//	--flag VALUE (ENV)
//		what it is (default "x")
//
// with the value's placeholder (Placeholder) and its variable, or "command
// line only". The usage goes to the flag set's output: stderr, or for -h
// the command's standard output (HelpOutput).
func (e Env) NewFlags(prog, name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s %s %s\n\nflags (and environment variables):\n", prog, name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			variable := e.Name(f.Name)
			if _, ok := f.Value.(CommandLineOnly); ok {
				variable = "command line only"
			}
			value, usage := Placeholder(f)
			if value != "" {
				value = " " + value
			}
			fmt.Fprintf(w, "  --%s%s (%s)\n\t%s", f.Name, value, variable, usage)
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(w)
		})
	}
	return fs
}

// Placeholder returns the placeholder of f's value in help ("" for a
// boolean flag) and its usage text: a name in back quotes in the usage,
// else one made from the value's type or the flag's name (URL, FILE, DIR,
// VKEY, KEYID, ID, N, DURATION, …).
func Placeholder(f *flag.Flag) (value, usage string) {
	v := f.Value
	if o, ok := v.(onlyValue); ok {
		v = o.Value
	}
	if b, ok := v.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "", f.Usage
	}
	name, usage := flag.UnquoteUsage(&flag.Flag{Name: f.Name, Usage: f.Usage, Value: v})
	if strings.Contains(f.Usage, "`") {
		return name, usage
	}
	switch name {
	case "duration":
		return "DURATION", usage
	case "int", "uint", "float":
		return "N", usage
	}
	n := f.Name
	if p, ok := placeholders[n]; ok {
		return p, usage
	}
	switch {
	case strings.Contains(n, "url") || n == "server" || n == "refresh":
		return "URL", usage
	case n == "listen" || strings.HasSuffix(n, "-addr"):
		return "ADDR", usage
	case n == "log-key" || n == "witness" || n == "vkey":
		return "VKEY", usage
	case n == "keyid":
		return "KEYID", usage
	case n == "id" || n == "signatory":
		return "ID", usage
	case n == "data" || strings.HasSuffix(n, "dir") || n == "known-keys":
		return "DIR", usage
	case strings.HasSuffix(n, "key") || strings.HasSuffix(n, "file") || strings.HasSuffix(n, "-out") ||
		strings.HasSuffix(n, "-pub") || strings.HasSuffix(n, "-state") ||
		strings.Contains(" in out bundle request policy state entry genesis record tls-cert tls-key ", " "+n+" "):
		return "FILE", usage
	}
	return strings.ToUpper(strings.ReplaceAll(n, "-", "_")), usage
}

// placeholders are the value names of flags whose name does not say.
var placeholders = map[string]string{
	"log-format": "text|json", "log-level": "LEVEL", "void-from": "INDEX", "supersedes": "INDEX",
	"index": "INDEX", "effective": "YYYY-MM-DD", "website": "URL", "evidence": "URL", "exec": "CMD",
	"pledge-verify": "FILE", "verify-binary": "FILE", "from": "DIR", "to": "DIR", "soak-plot": "FILE", "demo-seed": "SEED",
}

// CommandLineOnly is a flag value that Parse does not take from the
// environment: a flag that shares its name, and so its variable, with
// other commands' flags of another meaning (bench's --url switches the
// bench to remote servers; the clients' PLEDGELOG_URL must not), or that
// names what one run works on (--id, --file), which a variable left set
// would silently apply to every run.
type CommandLineOnly interface {
	flag.Value
	CommandLineOnly()
}

// onlyValue makes a flag command line only.
type onlyValue struct{ flag.Value }

func (onlyValue) CommandLineOnly() {}

// boolOnly is a command line only boolean flag.
type boolOnly struct{ onlyValue }

func (boolOnly) IsBoolFlag() bool { return true }

// CommandLine makes the flags names of fs command line only: Parse does
// not read their variables.
func CommandLine(fs *flag.FlagSet, names ...string) {
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil {
			panic("cli.CommandLine: no flag --" + n)
		}
		if _, ok := f.Value.(CommandLineOnly); ok {
			continue
		}
		o := onlyValue{f.Value}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			f.Value = boolOnly{o}
		} else {
			f.Value = o
		}
	}
}

// Parse sets each flag from args and each flag that args do not set from
// its environment variable, if set: the command line wins (a repeatable
// flag given on it takes none of the variable's value). It takes no positional arguments. Bad values are
// UsageErrors naming the flag or the variable.
func (e Env) Parse(fs *flag.FlagSet, args []string) error {
	_, err := e.ParseArgs(fs, args, 0)
	return err
}

// ParseArgs is Parse for a command with npos positional arguments (-1:
// any number), which may come before, between or after the flags; it
// returns them.
func (e Env) ParseArgs(fs *flag.FlagSet, args []string, npos int) ([]string, error) {
	var pos []string
	for {
		if err := e.parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		if npos == 0 {
			return nil, Usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if npos > 0 && len(pos) != npos {
		return nil, Usagef("%s: want %d argument(s), got %d", fs.Name(), npos, len(pos))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := f.Value.(CommandLineOnly); ok || set[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(e.Name(f.Name)); ok {
			if setErr := f.Value.Set(v); setErr != nil {
				err = Usagef("%s=%q: %v", e.Name(f.Name), v, setErr)
			}
		}
	})
	return pos, err
}

// parseFlags parses args, printing the usage to stderr after a bad flag
// and to the help output for -h.
func (e Env) parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard) // the flag package's own messages; Main prints the error
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case err == flag.ErrHelp:
		fs.SetOutput(HelpOutput(out))
		fs.Usage()
		fs.SetOutput(out)
		return err
	case err != nil:
		fs.Usage()
		return UsageError{err}
	}
	return nil
}
