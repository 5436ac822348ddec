// Command pledge is the signatory's client of a pledgelog log: it makes
// keys, signs pledges, submits them and checks what the log holds for the
// signatory. See docs/signatory.md.
//
//	pledge keygen   [--type ed25519|ecdsa-p256]       make a key pair
//	pledge request  --action register|recover ...     a registration request for the operator
//	pledge sign     --signatory ... | --file F        sign a pledge into an envelope file
//	pledge submit   --in ENVELOPE                     log it and keep the proof bundle
//	pledge add-key  --new-key FILE                    add a key (signed by the current and the new key)
//	pledge revoke-key --keyid KEYID --reason R        revoke a key (signed by a current key)
//	pledge verify   --bundle FILE --log-key VKEY      check a saved proof bundle offline
//	pledge status   --id ID                           what the log holds, with alarms
//	pledge fingerprint [--key FILE]                   a key's id, or the log key's fingerprint as the UI shows it
//	pledge export   --in BUNDLE --out FILE            a Sigstore bundle of the envelope, for Sigstore's tools
//
// Every flag can also be set by an environment variable: --url is
// PLEDGE_URL. Exit status: 0 done or verified, 1 verification failed (a
// bundle that does not verify, status's alarms), 2 bad usage, input that
// cannot be read or is refused, or the network.
package main

import (
	"context"
	"io"

	"github.com/pledgelog/pledgelog/cmd/internal/cli"
)

func main() { cli.Main("pledge", run, exitCode) }

const usage = `usage: pledge <command> [flags]

commands:
  keygen   make a key pair (Ed25519, or --type ecdsa-p256)
  request  make a register or recover request, for the log's operator
  sign     sign a pledge into an envelope file
  submit   submit an envelope, verify and keep its proof bundle
  add-key  add a key to the signatory (proof of possession by both keys)
  revoke-key  revoke a key of the signatory, signed by one of its current keys
  verify   verify a saved proof bundle offline
  status   show what the log holds for a signatory, with alarms
  fingerprint  print a key file's key id, or the log key's fingerprint as the log's pages show it
  export   write a Sigstore bundle of an envelope, for Sigstore's verifiers

  completion bash|zsh  print a shell completion script: source <(pledge completion bash)

Run "pledge <command> -h" for a command's flags, "pledge version" for its version.
`

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, args, stdout, stderr, usage, commands())
}

// commands is the command table.
func commands() map[string]cli.Command {
	return map[string]cli.Command{
		"version": cli.VersionCommand("pledge"), "completion": cli.CompletionCommand("pledge", commands, nil),
		"keygen": runKeygen, "request": runRequest, "sign": runSign, "submit": runSubmit,
		"add-key": runAddKey, "revoke-key": runRevokeKey, "status": runStatus, "verify": runVerify,
		"export": runExport, "fingerprint": runFingerprint,
	}
}

// usageError is a bad command line: exit status 2.
type usageError = cli.UsageError

var usagef = cli.Usagef

// exitCode is the rule of the three commands (cmd/internal/cli): 1 for
// a verification that failed (a bundle, status's alarms), 2 for
// everything else.
func exitCode(err error) int { return cli.ExitCode(err) }

// failed marks err, if not nil, as a failed verification: exit status 1.
var failed = cli.Failed
