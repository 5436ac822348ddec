package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A policyFile is the trust an auditor pins, as a text file of one
// directive per line; blank lines and lines starting with '#' are
// ignored:
//
//	log <vkey>            a log key (repeatable, during a rotation)
//	registrar <keyid|FILE> the registrar key: a 64-digit hex key id, or a
//	                      PEM public key file (relative to the policy file)
//	witness <vkey>        a witness cosigning key, type 0x04 (repeatable)
//	quorum <n>            how many distinct witnesses must cosign
//
// For example:
//
//	# log.example.org/tech-accord, as published on its home page
//	log log.example.org/tech-accord+4e763500+AW5T…
//	registrar 2b0e6c1c…
//	witness witness.example.com/w1+02d65643+BJDv…
//	quorum 1
type policyFile struct {
	Logs       []string
	Registrars []string
	Witnesses  []string
	Quorum     int
}

const maxPolicySize = 1 << 20

// parsePolicy parses a policy file strictly: known directives, one
// argument each, at most one quorum, canonical decimal.
func parsePolicy(b []byte) (*policyFile, error) {
	if len(b) > maxPolicySize {
		return nil, errors.New("policy file too large")
	}
	p := &policyFile{Quorum: -1}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		if err := p.line(sc.Text()); err != nil {
			return nil, fmt.Errorf("policy line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if p.Quorum < 0 {
		p.Quorum = 0
	}
	return p, nil
}

func (p *policyFile) line(l string) error {
	l = strings.TrimSpace(l)
	if l == "" || strings.HasPrefix(l, "#") {
		return nil
	}
	f := strings.Fields(l)
	if len(f) != 2 {
		return fmt.Errorf("want a directive and one argument: %q", l)
	}
	switch f[0] {
	case "log":
		p.Logs = append(p.Logs, f[1])
	case "registrar":
		p.Registrars = append(p.Registrars, f[1])
	case "witness":
		p.Witnesses = append(p.Witnesses, f[1])
	case "quorum":
		return p.setQuorum(f[1])
	default:
		return fmt.Errorf("unknown directive %q", f[0])
	}
	return nil
}

func (p *policyFile) setQuorum(s string) error {
	q, err := strconv.Atoi(s)
	if err != nil || q < 0 || strconv.Itoa(q) != s || p.Quorum >= 0 {
		return fmt.Errorf("quorum %q: want one non-negative decimal number", s)
	}
	p.Quorum = q
	return nil
}

// marshal returns the policy in the form parsePolicy reads.
func (p *policyFile) marshal() []byte {
	var b bytes.Buffer
	for _, d := range []struct {
		name string
		args []string
	}{{"log", p.Logs}, {"registrar", p.Registrars}, {"witness", p.Witnesses}} {
		for _, a := range d.args {
			fmt.Fprintf(&b, "%s %s\n", d.name, a)
		}
	}
	fmt.Fprintf(&b, "quorum %d\n", p.Quorum)
	return b.Bytes()
}
