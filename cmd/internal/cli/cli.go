// Package cli is what the pledgelog, pledge and pledge-verify commands
// share: running a subcommand, flags that environment variables can also
// set, and usage errors, which exit with status 2.
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
// for help, and to stderr with a UsageError for no or an unknown command;
// a command's -h is not an error. --version and -version run the
// "version" command, if there is one.
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
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case !ok:
		fmt.Fprint(stderr, usage)
		return UsageError{fmt.Errorf("unknown command %q", args[0])}
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// UsageError is a bad command line: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// IsUsage reports whether err is, or wraps, a UsageError.
func IsUsage(err error) bool { return errors.As(err, new(UsageError)) }
