package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/internal/durable"
)

// signFlags are the flags of sign.
type signFlags struct {
	common
	key, file, out, supersedes string
	p                          attest.Pledge
	evidence                   stringList
}

func parseSign(args []string, stderr io.Writer) (*signFlags, error) {
	f := &signFlags{}
	fl := newFlags("sign", "(--signatory ID --accord ID --principle ID --status S --statement TEXT | --file PLEDGE.json) [--out FILE]", stderr)
	f.register(fl)
	fl.StringVar(&f.key, "key", "", "the private key file (default key.pem in --config-dir)")
	fl.StringVar(&f.file, "file", "", "read the pledge from this JSON file (fields as the flags: signatory, accord, principle, status, statement, evidence, effective, supersedes) instead of flags")
	fl.StringVar(&f.out, "out", "envelope.json", "the envelope file to write ('-': standard output)")
	fl.StringVar(&f.p.Signatory, "signatory", "", "your signatory id")
	fl.StringVar(&f.p.Accord, "accord", "", "the accord id")
	fl.StringVar(&f.p.Principle, "principle", "", "the principle id")
	fl.StringVar(&f.p.Status, "status", "", "committed, reaffirmed, progress or withdrawn")
	fl.StringVar(&f.p.Statement, "statement", "", "the statement text")
	fl.Var(&f.evidence, "evidence", "an https URL of evidence (repeatable)")
	fl.StringVar(&f.p.Effective, "effective", time.Now().UTC().Format(time.DateOnly), "the effective date, YYYY-MM-DD")
	fl.StringVar(&f.supersedes, "supersedes", "", "the index of an earlier pledge of yours on this principle that this one supersedes")
	if err := parse(fl, args); err != nil {
		return nil, err
	}
	return f, f.pledge(fl)
}

// pledge fills f.p from the file or the flags.
func (f *signFlags) pledge(fl *flag.FlagSet) error {
	if f.file != "" {
		set := 0
		fl.Visit(func(x *flag.Flag) {
			if strings.Contains(" signatory accord principle status statement evidence supersedes ", " "+x.Name+" ") {
				set++
			}
		})
		if set > 0 {
			return usagef("--file: give the pledge in the file or in flags, not both")
		}
		return readPledge(f.file, &f.p)
	}
	f.p.Evidence = f.evidence
	for _, req := range []struct{ name, v string }{{"signatory", f.p.Signatory}, {"accord", f.p.Accord},
		{"principle", f.p.Principle}, {"status", f.p.Status}, {"statement", f.p.Statement}} {
		if req.v == "" {
			return usagef("--%s is required (or give --file)", req.name)
		}
	}
	if f.supersedes != "" {
		n, err := strconv.ParseUint(f.supersedes, 10, 63)
		if err != nil {
			return usagef("--supersedes %q: want an entry index", f.supersedes)
		}
		f.p.Supersedes = &n
	}
	return nil
}

// readPledge reads a pledge predicate from a JSON file, strictly.
func readPledge(name string, p *attest.Pledge) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	if err := checkPledgeFile(b); err != nil {
		return fmt.Errorf("--file %s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return fmt.Errorf("--file %s: %w", name, err)
	}
	if p.Effective == "" {
		p.Effective = time.Now().UTC().Format(time.DateOnly)
	}
	return nil
}

// runSign signs a pledge into an envelope file, with the origin and the
// accord's digest from the log.
func runSign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseSign(args, stderr)
	if err != nil {
		return err
	}
	key, err := loadKey(f.keyFile(f.key))
	if err != nil {
		return err
	}
	leaf, err := signPledge(ctx, client.New(f.url), key, &f.p)
	if err != nil {
		return err
	}
	if err := writeOut(f.out, leaf, stdout); err != nil {
		return err
	}
	env, _ := attest.ParseLeaf(leaf)
	w := stdout
	if f.out == "-" {
		w = stderr // stdout holds the envelope
	}
	return f.print(w, map[string]string{"out": f.out, "keyid": key.ID()},
		fmt.Sprintf("signed %s/%s/%s (%s) with key %s into %s\n", f.p.Signatory, f.p.Accord, f.p.Principle,
			f.p.Status, key.ID(), f.out)+noteDedup(env))
}

func noteDedup(env *attest.Envelope) string {
	return fmt.Sprintf("dedup key: %x\n", env.DedupKey())
}

func signPledge(ctx context.Context, c *client.Client, key *client.Key, p *attest.Pledge) ([]byte, error) {
	info, err := c.Log(ctx)
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	p.Origin = info.Origin
	accord, err := c.Accord(ctx, p.Accord)
	if err != nil {
		return nil, fmt.Errorf("--accord: %w", err)
	}
	if !slices.ContainsFunc(accord.Principles, func(pr attest.Principle) bool { return pr.ID == p.Principle }) {
		return nil, fmt.Errorf("--principle: the accord %s has no principle %q", p.Accord, p.Principle)
	}
	leaf, err := attest.Sign(attest.NewPledgeStatement(p, accord.Digest), key.Signer)
	if err != nil {
		return nil, usageError{Err: explainField(err)}
	}
	return leaf, nil
}

// explainField names the flag of a rejected predicate field; alias maps
// field names to flag names where they differ.
func explainField(err error, alias ...string) error {
	var fe *attest.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	field := fe.Pointer[strings.LastIndex(fe.Pointer, "/")+1:]
	if _, ferr := strconv.Atoi(field); ferr == nil { // an element of a list
		parts := strings.Split(fe.Pointer, "/")
		field = parts[len(parts)-2]
	}
	for i := 0; i+1 < len(alias); i += 2 {
		if alias[i] == field {
			field = alias[i+1]
		}
	}
	return fmt.Errorf("--%s (%s): %s", field, fe.Pointer, strings.TrimPrefix(fe.Error(), fe.Pointer+": "))
}

// writeOut writes data to the file name, or to stdout for "-".
func writeOut(name string, data []byte, stdout io.Writer) error {
	if name == "-" {
		_, err := stdout.Write(append(data, '\n'))
		return err
	}
	if err := durable.WriteFile(name, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// checkPledgeFile checks what encoding/json would let through: the file
// is UTF-8, and one object whose members are distinct and named exactly
// as attest.Pledge's, so that what is signed is what the file says.
func checkPledgeFile(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("not UTF-8")
	}
	names := map[string]bool{}
	t := reflect.TypeFor[attest.Pledge]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names[name] = true
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("want one JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errors.New("not valid JSON")
		}
		name := tok.(string)
		switch {
		case !names[name]:
			return fmt.Errorf("unknown field %q", name)
		case seen[name]:
			return fmt.Errorf("field %q given twice", name)
		}
		seen[name] = true
		if err := dec.Decode(new(json.RawMessage)); err != nil {
			return errors.New("not valid JSON")
		}
	}
	if _, err := dec.Token(); err != nil {
		return errors.New("not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}
