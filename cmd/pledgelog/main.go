// Command pledgelog runs a pledgelog transparency log: the operator's
// tool. See docs/operations.md.
//
//	pledgelog init   --data DIR --origin ORIGIN   create a log (with
//	                 --registrar-key-out FILE, or --registrar-pub and
//	                 --genesis, or --demo)
//	pledgelog serve  --data DIR --listen ADDR     serve it
//	pledgelog backup --data DIR --out DEST        back it up
//	pledgelog reindex --data DIR                  rebuild its derived rows
//	pledgelog accord|signatory|registrar ...      registry writes through the API
//	pledgelog bench                               load-test the write API
//
// Every flag can also be set by an environment variable: --log-level is
// PLEDGELOG_LOG_LEVEL. Flags on the command line win.
package main

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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pledgelog:", err)
		os.Exit(exitCode(err))
	}
}

const usage = `usage: pledgelog <command> [flags]

commands:
  init     create a log in a new data directory
  serve    serve an existing log over HTTP
  backup   back up a log, running or stopped
  reindex  rebuild the derived rows (search, registry) of a stopped log

through the API of a running log, with the registrar key:
  accord add           log an accord
  signatory register   cosign a signatory's register request (pledge request)
  signatory recover    cosign a signatory's recover request
  signatory revoke-key revoke a key of a signatory
  signatory list       list the signatories
  registrar rotate     replace the registrar key

  bench    load-test the write API on localhost (docs/performance.md)

Run "pledgelog <command> -h" for a command's flags.
`

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	commands := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"init": runInit, "serve": runServe, "backup": runBackup, "reindex": runReindex,
		"accord": runAccord, "signatory": runSignatory, "registrar": runRegistrar, "bench": runBench,
	}
	cmd, ok := commands[args[0]]
	switch {
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case !ok:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Errorf("unknown command %q", args[0])}
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// usageError is a bad command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}
