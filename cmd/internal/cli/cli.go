// Package cli is what the pledgelog, pledge and pledge-verify commands
// share: running a subcommand, flags that environment variables can also
// set, help, shell completion and the exit status rule of the three:
//
//	0  success, or verified
//	1  a verification failed (a Failure)
//	2  anything else: bad usage, input that cannot be read or is refused,
//	   the network, the server
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Command runs one subcommand with its arguments.
type Command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Main runs run with the program's arguments under a context cancelled by
// SIGINT or SIGTERM, and exits with exitCode(err) after printing err.
func Main(prog string, run Command, exitCode func(error) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, prog+":", err)
		os.Exit(exitCode(err))
	}
}

// Dispatch runs the command that args[0] names. It prints usage to stdout
// for help (help, -h, --help), and to stderr with a UsageError for no or
// an unknown command; a command's -h prints its help on stdout and is not
// an error. --version and -version run the "version" command, if there is
// one.
func Dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, usage string, commands map[string]Command) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return UsageError{errors.New("no command given")}
	}
	name := args[0]
	if name == "--version" || name == "-version" {
		name = "version"
	}
	cmd, ok := commands[name]
	switch {
	case isHelp(args[0]):
		fmt.Fprint(stdout, usage)
		return nil
	case !ok:
		fmt.Fprint(stderr, usage)
		return UsageError{fmt.Errorf("unknown command %q", args[0])}
	}
	if _, wrapped := stderr.(helpWriter); !wrapped {
		stderr = helpWriter{stderr, stdout}
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "--help" || arg == "-help"
}

// Group is a command of subcommands, such as pledgelog signatory: its
// usage lists them.
type Group struct {
	Usage    string
	Commands map[string]Command
}

// Run runs the subcommand args[0] as Dispatch runs commands.
func (g Group) Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return Dispatch(ctx, args, stdout, stderr, g.Usage, g.Commands)
}

// helpWriter is the stderr that Dispatch gives a command: a flag set of
// NewFlags prints the help that -h asks for to help, the command's
// standard output.
type helpWriter struct {
	io.Writer
	help io.Writer
}

// HelpOutput returns where help goes for a command given stderr: its
// standard output, under Dispatch.
func HelpOutput(stderr io.Writer) io.Writer {
	if h, ok := stderr.(helpWriter); ok {
		return h.help
	}
	return stderr
}

// File returns the file that w writes to, if it is one (os.Stderr, under
// Dispatch's wrapping): to ask whether it is a terminal.
func File(w io.Writer) (*os.File, bool) {
	if h, ok := w.(helpWriter); ok {
		w = h.Writer
	}
	f, ok := w.(*os.File)
	return f, ok
}

// UsageError is a bad command line: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// IsUsage reports whether err is, or wraps, a UsageError.
func IsUsage(err error) bool { return errors.As(err, new(UsageError)) }

// Failure is a verification that failed: exit status 1.
type Failure struct{ Err error }

func (e Failure) Error() string { return e.Err.Error() }
func (e Failure) Unwrap() error { return e.Err }

// Failed marks err, if not nil, as a failed verification.
func Failed(err error) error {
	if err == nil {
		return nil
	}
	return Failure{err}
}

// ExitCode is the exit status of err under the rule of the package
// comment: 0 for nil, 1 for a Failure or an error that is one of
// failures, 2 for everything else.
func ExitCode(err error, failures ...error) int {
	if err == nil {
		return 0
	}
	if errors.As(err, new(Failure)) {
		return 1
	}
	for _, f := range failures {
		if errors.Is(err, f) {
			return 1
		}
	}
	return 2
}
