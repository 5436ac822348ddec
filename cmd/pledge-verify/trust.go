package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// trustFlags are the pinned keys every command takes.
type trustFlags struct {
	logs, witnesses listFlag
	registrar       string
	quorum          int
	policy          string
}

func (t *trustFlags) register(fs *flag.FlagSet) {
	fs.Var(&t.logs, "log-key", "a log verifier key `VKEY` (repeatable)")
	fs.StringVar(&t.registrar, "registrar-key", "", "the registrar key: a PEM public key `FILE` or its hex key id")
	fs.Var(&t.witnesses, "witness", "a witness cosigner verifier key `VKEY` (repeatable)")
	fs.IntVar(&t.quorum, "quorum", 0, "how many distinct witnesses must have cosigned a checkpoint")
	fs.StringVar(&t.policy, "policy", "", "a c2sp.org/tlog-policy `FILE`: the log's keys, the witnesses and the quorum (see docs/auditing.md)")
}

// load returns the policy the flags pin: --policy, or --log-key,
// --witness and --quorum; and --registrar-key.
func (t *trustFlags) load() (*bundle.Policy, error) {
	var p *bundle.Policy
	var err error
	if t.policy != "" {
		if len(t.logs)+len(t.witnesses) > 0 || t.quorum != 0 {
			return nil, usageError{Err: errors.New("--policy replaces --log-key, --witness and --quorum: give one or the other")}
		}
		p, err = policyFromFile(t.policy)
	} else {
		p, err = policyFromFlags(t.logs, t.witnesses, t.quorum)
	}
	if err != nil {
		return nil, usageError{Err: err}
	}
	if t.registrar != "" {
		if err := addRegistrar(p, t.registrar, "."); err != nil {
			return nil, usageError{Err: err}
		}
	}
	return p, nil
}

func addRegistrar(p *bundle.Policy, r, dir string) error {
	if b, err := hex.DecodeString(r); err == nil && len(b) == 32 && hex.EncodeToString(b) == r {
		p.RegistrarKeyIDs = append(p.RegistrarKeyIDs, r)
		return nil
	}
	if !filepath.IsAbs(r) {
		r = filepath.Join(dir, r)
	}
	b, err := readFile(r)
	if err != nil {
		return err
	}
	k, err := attest.ParsePublicKey(b)
	if err != nil {
		return fmt.Errorf("registrar key %s: %w", r, err)
	}
	p.RegistrarKeys = append(p.RegistrarKeys, k)
	return nil
}

// openCheckpoint verifies a signed checkpoint under the policy: the log's
// signature and the witness quorum.
func openCheckpoint(p *bundle.Policy, note []byte) (verify.Checkpoint, error) {
	cp, _, err := verify.OpenCosigned(note, p.Origin, p.LogKeys, p.Quorum)
	if err != nil {
		hint := quorumShort(p, note)
		if errors.Is(err, verify.ErrNoVerifiedSignature) {
			hint = signedByHint(p, note, "the checkpoint")
		}
		return cp, failed(fmt.Errorf("checkpoint: %w%s", err, hint))
	}
	return cp, nil
}

// quorumShort says, for a checkpoint note that does not meet p's quorum,
// which of the policy's witnesses cosigned it and which did not; it is
// "" for a note that meets it or is not validly signed.
func quorumShort(p *bundle.Policy, note []byte) string {
	if p.Quorum == nil {
		return ""
	}
	n, err := verify.Open(note, append(slices.Clip(p.LogKeys), p.Quorum.Cosigners()...)...)
	if err != nil {
		return ""
	}
	var have, missing []string
	for _, w := range p.Quorum.Cosigners() {
		name := fmt.Sprintf("%s+%08x", w.Name(), w.KeyID())
		if slices.ContainsFunc(n.Sigs, func(s verify.Signature) bool { return s.Name == w.Name() && s.KeyID == w.KeyID() }) {
			have = append(have, name)
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	if len(have) == 0 {
		return fmt.Sprintf(": none of the policy's %d witnesses cosigned it (%s)", len(missing), strings.Join(missing, ", "))
	}
	return fmt.Sprintf(": cosigned by %d of the policy's %d witnesses (%s), not by %s",
		len(have), len(have)+len(missing), strings.Join(have, ", "), strings.Join(missing, ", "))
}
