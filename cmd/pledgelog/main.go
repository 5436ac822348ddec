// Command pledgelog runs a pledgelog transparency log: the operator's
// tool. See docs/operations.md.
//
//	pledgelog init   --data DIR --origin ORIGIN   create a log (with
//	                 --registrar-key-out FILE, or --registrar-pub and
//	                 --genesis, or --demo)
//	pledgelog serve  --data DIR --listen ADDR     serve it
//	pledgelog demo   --data DIR --listen ADDR     the demo log with three
//	                 local witnesses (make run)
//	pledgelog backup --data DIR --out DEST        back it up
//	pledgelog reindex --data DIR                  rebuild its derived rows
//	pledgelog key add|finish --data DIR           rotate its key
//	pledgelog accord|signatory|registrar ...      registry writes through the API
//	pledgelog registrar key --data DIR            print the registrar's genesis
//	                 public key, which auditors pin (--id: its key id)
//	pledgelog bench                               load-test the write API
//
// Every flag can also be set by an environment variable: --log-level is
// PLEDGELOG_LOG_LEVEL. Flags on the command line win.
package main

import (
	"context"
	"errors"
	"io"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
)

func main() { cli.Main("pledgelog", run, exitCode) }

const usage = `usage: pledgelog <command> [flags]

commands:
  init     create a log in a new data directory
  serve    serve an existing log over HTTP
  demo     make the demo log on first use, serve it with three local witnesses (make run)
  backup   back up a log, running or stopped
  reindex  rebuild the derived rows (search, registry) of a stopped log
  key add|finish  rotate the log key (docs/operations.md)

through the API of a running log, with the registrar key:
  accord add           log an accord
  signatory register   cosign a signatory's register request (pledge request)
  signatory recover    cosign a signatory's recover request
  signatory revoke-key revoke a key of a signatory
  signatory list       list the signatories
  registrar rotate     replace the registrar key

  registrar key        print the registrar's genesis public key (or --id), for auditors

  bench    load-test the write API on localhost (docs/performance.md)

Run "pledgelog <command> -h" for a command's flags, "pledgelog version" for its version.
`

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, args, stdout, stderr, usage, map[string]cli.Command{
		"version": cli.VersionCommand("pledgelog"),
		"init":    runInit, "serve": runServe, "demo": runDemo, "backup": runBackup, "reindex": runReindex, "key": runKey,
		"accord": runAccord, "signatory": runSignatory, "registrar": runRegistrarCmd, "bench": runBench,
		"migrate-schema": runMigrateSchema, "migrate": runMigrate,
	})
}

// usageError is a bad command line: exit status 2.
type usageError = cli.UsageError

func exitCode(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}
