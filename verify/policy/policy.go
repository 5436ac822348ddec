// Package policy reads c2sp.org/tlog-policy files: which logs a party
// trusts, which witnesses, and the quorum of witnesses whose cosignatures
// make a checkpoint trusted. The log (pledgelog serve --policy), the
// auditor (pledge-verify --policy) and the witness (pledge-verify witness
// serve --policy) all read this one format.
//
// A policy file is a text of lines, each ending in a newline (0x0A).
// Items on a line are separated by runs of spaces and tabs, and leading
// and trailing ones are allowed. Blank lines, and lines whose first
// non-blank character is '#', are ignored; a '#' later in a line is not a
// comment. The only bytes allowed are tab, newline, 0x20–0x7E and
// 0x80–0xFF; bytes above 0x7F are opaque (names are compared byte by
// byte). The lines are:
//
//	log <vkey> [<url>]                a log: its key, named after its origin
//	witness <name> <vkey> [<url>]     a witness: its cosigning key
//	group <name> <k>|any|all <name>…  at least k of the members have cosigned
//	quorum <name>|none                what a checkpoint needs (exactly once)
//
// A log key is of type 0x01 (Ed25519); a witness key of type 0x04 (Ed25519
// cosignature) or 0x06 (ML-DSA-44 cosignature). No two log lines, and no
// two witness lines, may wrap the same public key, whatever their key
// names. Witnesses and groups share one namespace, in which "none" is
// predefined; a group's members and the quorum may only name witnesses and
// groups defined on earlier lines; a group has at least one member, and k
// is canonical decimal with 1 ≤ k ≤ members ("any" is 1, "all" is every
// member); a name may be a member of at most one group, once. A witness
// cosigned when its cosignature verifies; a group when at least k of its
// members did; the quorum when the witness or group it names did, and
// "none" always.
//
// Anything else is an error that names the line: an unknown keyword
// (tlog-policy defines no extension lines, and other parsers reject
// them), a missing or extra item, a key of the wrong type, a name used
// twice. A file is at most [MaxSize] bytes, with at most [MaxEntries]
// logs, witnesses and groups each. URLs are not interpreted; a log
// contacting its witnesses reads them.
//
// For example, a log with two witnesses of which one must cosign:
//
//	log log.example.org/tech-accord+b5f3f2ac+AbIe…
//	witness w1 witness1.example.com+1b4d5e07+BDSL… https://witness1.example.com/
//	witness w2 witness2.example.com+8e5f6a19+Bsk3… https://witness2.example.com/
//	group both-operators any w1 w2
//	quorum both-operators
//
// A *Policy is a [verify.Quorum]: pass it to [verify.OpenCosigned].
package policy

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pledgelog/pledgelog/verify"
)

const (
	// MaxSize is the largest policy file Parse reads, in bytes.
	MaxSize = 1 << 20
	// MaxEntries is the most logs, witnesses and groups (each) of a policy.
	MaxEntries = 256
)

// ErrMalformed means a policy file does not follow c2sp.org/tlog-policy
// or exceeds this package's limits. It must be rejected whole.
var ErrMalformed = errors.New("malformed policy")

// A Policy is a parsed policy file. It is immutable and safe for
// concurrent use.
type Policy struct {
	logs      []Log
	witnesses []Witness
	groups    []group
	quorum    member // quorum none: kind noMember
	names     map[string]member
}

// A Log is a log line.
type Log struct {
	Key  verify.Verifier // type 0x01; its name is the log's origin
	URL  string          // "" if the line has none
	vkey string
}

// Origin returns the log's origin, its key's name.
func (l Log) Origin() string { return l.Key.Name() }

// A Witness is a witness line.
type Witness struct {
	Name string          // the name in the policy, not the key's name
	Key  verify.Verifier // type 0x04 or 0x06
	URL  string          // "" if the line has none
	vkey string
}

type group struct {
	name    string
	k       int
	members []member
}

// A member is a witness or a group, by index.
type member struct {
	kind  int // noMember (quorum none), witnessMember, groupMember
	index int
}

const (
	noMember = iota
	witnessMember
	groupMember
)

// Logs returns the policy's logs, in the order of the file.
func (p *Policy) Logs() []Log { return p.logs }

// Witnesses returns the policy's witnesses, in the order of the file.
func (p *Policy) Witnesses() []Witness { return p.witnesses }

// LogKeys returns the keys of the policy's logs of origin.
func (p *Policy) LogKeys(origin string) []verify.Verifier {
	var keys []verify.Verifier
	for _, l := range p.logs {
		if l.Origin() == origin {
			keys = append(keys, l.Key)
		}
	}
	return keys
}

// Cosigners returns the keys of the policy's witnesses, in the order of
// [Policy.Witnesses]. With Met, it makes a Policy a [verify.Quorum].
func (p *Policy) Cosigners() []verify.Verifier {
	keys := make([]verify.Verifier, len(p.witnesses))
	for i, w := range p.witnesses {
		keys[i] = w.Key
	}
	return keys
}

// Met reports whether the quorum is met when cosigned[i] says whether
// witness i (of [Policy.Witnesses]) cosigned. It panics if cosigned is
// not as long as the list of witnesses.
func (p *Policy) Met(cosigned []bool) bool {
	if len(cosigned) != len(p.witnesses) {
		panic(fmt.Sprintf("policy: %d cosigned flags for %d witnesses", len(cosigned), len(p.witnesses)))
	}
	if p.quorum.kind == noMember {
		return true
	}
	// Groups only name earlier groups, so one pass in file order suffices.
	groupMet := make([]bool, len(p.groups))
	met := func(m member) bool {
		if m.kind == witnessMember {
			return cosigned[m.index]
		}
		return groupMet[m.index]
	}
	for i, g := range p.groups {
		n := 0
		for _, m := range g.members {
			if met(m) {
				n++
			}
		}
		groupMet[i] = n >= g.k
	}
	return met(p.quorum)
}

// QuorumName returns the name the quorum line gives, or "none".
func (p *Policy) QuorumName() string {
	switch p.quorum.kind {
	case witnessMember:
		return p.witnesses[p.quorum.index].Name
	case groupMember:
		return p.groups[p.quorum.index].name
	}
	return "none"
}

// String describes the quorum, for messages.
func (p *Policy) String() string {
	return fmt.Sprintf("%s over %d witnesses", p.QuorumName(), len(p.witnesses))
}

// Marshal returns the policy as a file that Parse reads as the same
// policy: its log, witness and group lines in that order, then the quorum.
func (p *Policy) Marshal() []byte {
	var b bytes.Buffer
	for _, l := range p.logs {
		b.WriteString(line("log", l.vkey, l.URL))
	}
	for _, w := range p.witnesses {
		b.WriteString(line("witness", w.Name, w.vkey, w.URL))
	}
	for _, g := range p.groups {
		items := []string{"group", g.name, strconv.Itoa(g.k)}
		for _, m := range g.members {
			items = append(items, p.memberName(m))
		}
		b.WriteString(line(items...))
	}
	b.WriteString(line("quorum", p.QuorumName()))
	return b.Bytes()
}

func (p *Policy) memberName(m member) string {
	if m.kind == witnessMember {
		return p.witnesses[m.index].Name
	}
	return p.groups[m.index].name
}

// line joins the non-empty items with spaces and ends them with a newline.
func line(items ...string) string {
	var nonEmpty []string
	for _, s := range items {
		if s != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	return strings.Join(nonEmpty, " ") + "\n"
}

// decodeKey returns the signature type and the public key of a vkey that
// verify.NewVerifier accepted. Two vkeys are duplicates if their public
// keys are equal, whatever their names, key IDs and types.
func decodeKey(vkey string) (typ byte, pub string) {
	_, rest, _ := strings.Cut(vkey, "+")
	_, b64, _ := strings.Cut(rest, "+")
	key, _ := base64.StdEncoding.DecodeString(b64)
	return key[0], string(key[1:])
}
