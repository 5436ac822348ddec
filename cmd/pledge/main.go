// Command pledge is the signatory's client of a pledgelog log: it makes
// keys, signs pledges, submits them and checks what the log holds for the
// signatory. See docs/signatory.md.
//
//	pledge keygen   [--type ed25519|ecdsa-p256]       make a key pair
//	pledge request  --action register|recover ...     a registration request for the operator
//	pledge sign     --signatory ... | --file F        sign a pledge into an envelope file
//	pledge submit   --in ENVELOPE                     log it and keep the proof bundle
//	pledge add-key  --new-key FILE                    add a key (signed by the current and the new key)
//	pledge verify   --bundle FILE --log-key VKEY      check a saved proof bundle offline
//	pledge status   --id ID                           what the log holds, with alarms
//
// Every flag can also be set by an environment variable: --url is
// PLEDGE_URL. Exit status: 0 done, 1 failed, 2 bad usage.
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
		fmt.Fprintln(os.Stderr, "pledge:", err)
		os.Exit(exitCode(err))
	}
}

const usage = `usage: pledge <command> [flags]

commands:
  keygen   make a key pair (Ed25519, or --type ecdsa-p256)
  request  make a register or recover request, for the log's operator
  sign     sign a pledge into an envelope file
  submit   submit an envelope, verify and keep its proof bundle
  add-key  add a key to the signatory (proof of possession by both keys)
  verify   verify a saved proof bundle offline
  status   show what the log holds for a signatory, with alarms

Run "pledge <command> -h" for a command's flags.
`

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	commands := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"keygen": runKeygen, "request": runRequest, "sign": runSign, "submit": runSubmit,
		"add-key": runAddKey, "status": runStatus, "verify": runVerify,
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

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func exitCode(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}
