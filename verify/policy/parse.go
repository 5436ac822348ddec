package policy

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/pledgelog/pledgelog/verify"
)

// Parse parses a policy file strictly, as the package comment says. Its
// errors wrap [ErrMalformed] and name the line.
func Parse(b []byte) (*Policy, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("policy of %d bytes, more than %d: %w", len(b), MaxSize, ErrMalformed)
	}
	p := &parser{Policy: &Policy{names: make(map[string]member)}, logKeys: map[string]bool{},
		witnessKeys: map[string]bool{}, inGroup: map[member]bool{}}
	rest := b
	for n := 1; len(rest) > 0; n++ {
		l, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return nil, fmt.Errorf("line %d: no final newline: %w", n, ErrMalformed)
		}
		rest = after
		if err := p.line(l); err != nil {
			return nil, fmt.Errorf("line %d: %w: %w", n, err, ErrMalformed)
		}
	}
	if !p.haveQuorum {
		return nil, fmt.Errorf("no quorum line: %w", ErrMalformed)
	}
	return p.Policy, nil
}

// parser is the state of Parse: the policy so far and what the rules of
// uniqueness need.
type parser struct {
	*Policy
	haveQuorum  bool
	logKeys     map[string]bool // public keys of log lines
	witnessKeys map[string]bool // public keys of witness lines
	inGroup     map[member]bool // names already listed as members
}

func (p *parser) line(l []byte) error {
	for _, c := range l {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Errorf("control character %#02x", c)
		}
	}
	f := fields(string(l))
	if len(f) == 0 || f[0][0] == '#' {
		return nil
	}
	switch f[0] {
	case "log":
		return p.log(f[1:])
	case "witness":
		return p.witness(f[1:])
	case "group":
		return p.group(f[1:])
	case "quorum":
		return p.setQuorum(f[1:])
	}
	return fmt.Errorf("unknown keyword %q", f[0])
}

// fields splits s at runs of spaces and tabs, the only white space of the
// format (strings.Fields would also split at Unicode spaces, which are
// parts of names here).
func fields(s string) []string {
	var f []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '\t' {
			if start >= 0 {
				f = append(f, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return f
}

func (p *parser) log(args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return errors.New("want log <vkey> [<url>]")
	}
	if len(p.logs) == MaxEntries {
		return fmt.Errorf("more than %d logs", MaxEntries)
	}
	k, err := key(args[0], verify.TypeEd25519)
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	_, pub := decodeKey(args[0])
	if p.logKeys[pub] {
		return fmt.Errorf("log key %s: the key of an earlier log line", k.Name())
	}
	p.logKeys[pub] = true
	p.logs = append(p.logs, Log{Key: k, URL: optional(args, 1), vkey: args[0]})
	return nil
}

func (p *parser) witness(args []string) error {
	if len(args) < 2 || len(args) > 3 {
		return errors.New("want witness <name> <vkey> [<url>]")
	}
	if len(p.witnesses) == MaxEntries {
		return fmt.Errorf("more than %d witnesses", MaxEntries)
	}
	name := args[0]
	if err := p.define(name); err != nil {
		return err
	}
	k, err := key(args[1], verify.TypeCosignature, verify.TypeMLDSACosignature)
	if err != nil {
		return fmt.Errorf("witness %s key: %w", name, err)
	}
	_, pub := decodeKey(args[1])
	if p.witnessKeys[pub] {
		return fmt.Errorf("witness %s: the key of an earlier witness line", name)
	}
	p.witnessKeys[pub] = true
	p.names[name] = member{kind: witnessMember, index: len(p.witnesses)}
	p.witnesses = append(p.witnesses, Witness{Name: name, Key: k, URL: optional(args, 2), vkey: args[1]})
	return nil
}

func (p *parser) group(args []string) error {
	if len(args) < 3 {
		return errors.New("want group <name> <k>|any|all <name>…")
	}
	if len(p.groups) == MaxEntries {
		return fmt.Errorf("more than %d groups", MaxEntries)
	}
	name, threshold, names := args[0], args[1], args[2:]
	if err := p.define(name); err != nil {
		return err
	}
	k, err := parseThreshold(threshold, len(names))
	if err != nil {
		return fmt.Errorf("group %s: %w", name, err)
	}
	g := group{name: name, k: k}
	for _, n := range names {
		m, err := p.lookup(n)
		if err != nil {
			return fmt.Errorf("group %s: %w", name, err)
		}
		if p.inGroup[m] {
			return fmt.Errorf("group %s: %s is already a group member", name, n)
		}
		p.inGroup[m] = true
		g.members = append(g.members, m)
	}
	p.names[name] = member{kind: groupMember, index: len(p.groups)}
	p.groups = append(p.groups, g)
	return nil
}

func (p *parser) setQuorum(args []string) error {
	if len(args) != 1 {
		return errors.New("want quorum <name>|none")
	}
	if p.haveQuorum {
		return errors.New("a second quorum line")
	}
	p.haveQuorum = true
	if args[0] == "none" {
		return nil
	}
	m, err := p.lookup(args[0])
	if err != nil {
		return fmt.Errorf("quorum: %w", err)
	}
	p.quorum = m
	return nil
}

// define checks that name is free to be defined.
func (p *parser) define(name string) error {
	if _, ok := p.names[name]; ok || name == "none" {
		return fmt.Errorf("name %s is already defined", name)
	}
	return nil
}

// lookup returns the witness or group name defines.
func (p *parser) lookup(name string) (member, error) {
	m, ok := p.names[name]
	if !ok {
		return member{}, fmt.Errorf("%s is not defined on an earlier line", name)
	}
	return m, nil
}

// parseThreshold parses the k of a group of n members.
func parseThreshold(s string, n int) (int, error) {
	switch s {
	case "any":
		return 1, nil
	case "all":
		return n, nil
	}
	k, err := strconv.Atoi(s)
	if err != nil || strconv.Itoa(k) != s || k < 1 || k > n {
		return 0, fmt.Errorf("threshold %q: want any, all, or a decimal k with 1 <= k <= %d", s, n)
	}
	return k, nil
}

// key parses a vkey of one of types.
func key(vkey string, types ...byte) (verify.Verifier, error) {
	v, err := verify.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	typ, _ := decodeKey(vkey)
	if !bytes.Contains(types, []byte{typ}) {
		return nil, fmt.Errorf("type %#02x, want %#02x", typ, types)
	}
	return v, nil
}

func optional(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}
