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
	"io"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
	logcosign "github.com/pledgelog/pledgelog/log/cosign"
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

  completion bash|zsh  print a shell completion script: source <(pledgelog completion bash)

Run "pledgelog <command> -h" for a command's flags, "pledgelog version" for its version.
`

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, args, stdout, stderr, usage, commands())
}

// groups are the commands of subcommands.
var groups = map[string]cli.Group{"accord": accordGroup, "signatory": signatoryGroup, "registrar": registrarGroup, "key": keyGroup}

// commands is the command table.
func commands() map[string]cli.Command {
	return map[string]cli.Command{
		"version": cli.VersionCommand("pledgelog"), "completion": cli.CompletionCommand("pledgelog", commands, groups),
		"init": runInit, "serve": runServe, "demo": runDemo, "backup": runBackup, "reindex": runReindex, "key": keyGroup.Run,
		"accord": accordGroup.Run, "signatory": signatoryGroup.Run, "registrar": registrarGroup.Run, "bench": runBench,
		"migrate-schema": runMigrateSchema, "migrate": runMigrate,
	}
}

// usageError is a bad command line: exit status 2.
type usageError = cli.UsageError

// exitCode is the rule of the three commands (cmd/internal/cli): 1 for
// a verification that failed (the witnesses cosigned a larger tree than
// the store holds: a rollback), 2 for everything else.
func exitCode(err error) int { return cli.ExitCode(err, logcosign.ErrRollback) }
