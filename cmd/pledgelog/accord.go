package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/client"
	"github.com/pledgelog/pledgelog/cmd/internal/cli"
)

// accordGroup is pledgelog accord <sub>.
var accordGroup = cli.Group{Usage: `usage: pledgelog accord add --file ACCORD.json --registrar-key FILE

commands, through the API of a running log with the registrar key:
  add  log an accord read from a JSON file (docs/formats.md)

Run "pledgelog accord add -h" for its flags.
`, Commands: map[string]cli.Command{"add": runAccordAdd}}

// runAccordAdd runs pledgelog accord add: log an accord read from a JSON
// file (the predicate of docs/formats.md; origin may be left out).
func runAccordAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f apiFlags
	var file string
	fl := newFlags("accord add", "--file ACCORD.json --registrar-key FILE", stderr)
	f.register(fl)
	fl.StringVar(&file, "file", "", "the accord, as JSON")
	if err := parse(fl, args); err != nil {
		return err
	}
	if file == "" {
		return usageError{Err: errors.New("--file is required")}
	}
	a, err := readAccord(file)
	if err != nil {
		return err
	}
	r, err := f.open(ctx, stderr)
	if err != nil {
		return err
	}
	a.Origin = r.info.Origin
	index, err := r.submit(ctx, a)
	if err != nil {
		return fmt.Errorf("--file %s: %w", file, err)
	}
	fmt.Fprintf(stdout, "accord %s (%d principles): index %d\n", a.ID, len(a.Principles), index)
	return nil
}

func readAccord(name string) (*attest.Accord, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	a := new(attest.Accord)
	if err := dec.Decode(a); err != nil {
		return nil, fmt.Errorf("--file %s: %w", name, err)
	}
	return a, nil
}

// runRegistrar runs pledgelog registrar rotate: replace the registrar key
// with a new one, signed by both.
func runRegistrar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f apiFlags
	var newFile string
	fl := newFlags("registrar rotate", "--new-key FILE --registrar-key FILE", stderr)
	f.register(fl)
	fl.StringVar(&newFile, "new-key", "", "the new registrar private key file")
	if err := parse(fl, args); err != nil {
		return err
	}
	if newFile == "" {
		return usageError{Err: errors.New("--new-key is required")}
	}
	nk, err := client.LoadKeyFile("--new-key", newFile)
	if err != nil {
		return err
	}
	r, err := f.open(ctx, stderr)
	if err != nil {
		return err
	}
	s, err := r.c.Signatory(ctx, attest.RegistrarID)
	if err != nil {
		return err
	}
	p := &attest.Registrar{Action: "rotate", Origin: r.info.Origin, Seq: s.Signatory.Seq + 1, Prev: s.Signatory.Head, Key: nk.Public}
	index, err := r.submit(ctx, p, nk)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registrar key rotated to %s: index %d\n", nk.ID(), index)
	return nil
}
