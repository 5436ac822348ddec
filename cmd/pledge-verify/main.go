// Command pledge-verify checks a pledgelog log without trusting its server:
// the auditor's and witness's tool. See docs/auditing.md.
//
//	pledge-verify bundle FILE                      verify a proof bundle offline
//	pledge-verify inclusion --url URL --index N    prove an entry from the tiles
//	pledge-verify consistency --url URL            prove the log only grew
//	pledge-verify audit --url URL                  replay the whole log
//	pledge-verify monitor --url URL --signatory ID follow the log
//	pledge-verify lookup --url URL --signatory ID  prove a registry state by a map proof
//	pledge-verify witness keygen|serve             run a c2sp.org/tlog-witness
//
// Trust comes only from pinned keys: --log-key (repeatable), --witness
// (repeatable) and --quorum, or a c2sp.org/tlog-policy --policy file; and
// --registrar-key. Exit status: 0 verified, 1 verification failed, 2 usage
// or network error.
package main

import (
	"context"
	"errors"
	"io"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"

	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/audit"
	"github.com/pledgelog/pledgelog/verify/client"
	"github.com/pledgelog/pledgelog/verify/consistency"
	"github.com/pledgelog/pledgelog/verify/monitor"
)

func main() { cli.Main("pledge-verify", run, exitCode) }

const usage = `usage: pledge-verify <command> [flags]

commands:
  bundle FILE    verify a proof bundle (or .tlog-proof) offline; --refresh URL upgrades it
  inclusion      prove an entry (--index N or --entry FILE) from the log's tiles
  consistency    prove the log only grew since the last run (split-view alarm)
  audit          replay the whole log: tree, registry, signatures, duplicates
  monitor        follow the log, one JSON line per event of the signatories watched
  lookup         prove a signatory's, key's, accord's or latest pledge's state by a map proof
  witness        keygen, serve: a c2sp.org/tlog-witness witness (docs/witness.md)

Trust: --log-key VKEY (repeatable), --witness VKEY (repeatable) and --quorum N,
or --policy FILE (c2sp.org/tlog-policy); and --registrar-key FILE|KEYID.
Exit status: 0 verified, 1 verification failed, 2 usage, unreadable input or network error.
Every flag is also a variable: --log-key is PLEDGE_VERIFY_LOG_KEY (the command line wins).
"pledge-verify completion bash|zsh" prints a shell completion script.
Run "pledge-verify <command> -h" for a command's flags, "pledge-verify version" for its version.
`

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, args, stdout, stderr, usage, commands())
}

// groups are the commands of subcommands.
var groups = map[string]cli.Group{"witness": witnessGroup}

// commands is the command table.
func commands() map[string]cli.Command {
	return map[string]cli.Command{
		"version": cli.VersionCommand("pledge-verify"), "completion": cli.CompletionCommand("pledge-verify", commands, groups),
		"bundle": runBundle, "inclusion": runInclusion, "consistency": runConsistency,
		"audit": runAudit, "monitor": runMonitor, "lookup": runLookup, "witness": witnessGroup.Run,
	}
}

// usageError is a bad command line or unusable input: exit status 2.
type usageError = cli.UsageError

// failure is a verification that failed: exit status 1.
type failure struct{ err error }

func (e failure) Error() string { return e.err.Error() }
func (e failure) Unwrap() error { return e.err }

// failed marks err, if not nil, as a failed verification.
func failed(err error) error {
	if err == nil {
		return nil
	}
	return failure{err}
}

// exitCode is 1 for a failed verification, unless what failed was the
// network, and 2 for everything else: a usage, file or network error. A
// split-view alarm is 1 even when a tile the log must serve was not found:
// it does not wrap the fetch error.
func exitCode(err error) int {
	if (errors.As(err, new(failure)) || servedBad(err)) && !errors.Is(err, client.ErrFetch) {
		return 1
	}
	return 2
}

// servedBad reports whether err says that the log served something wrong:
// a tree, tile or entry bundle that does not check.
func servedBad(err error) bool {
	for _, e := range []error{audit.ErrRoot, audit.ErrMapRoot, audit.ErrTile, audit.ErrResume, monitor.ErrInconsistent,
		consistency.ErrSplitView, verify.ErrMalformedBundle, verify.ErrShortTile} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
