package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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
	ids := []string{}
	for _, p := range a.Principles {
		ids = append(ids, p.ID)
	}
	return f.print(stdout, map[string]any{"accord": a.ID, "principles": ids, "index": index},
		fmt.Sprintf("accord %s (%d principles): index %d\n", a.ID, len(a.Principles), index))
}

// readAccord reads an accord file: the predicate of docs/formats.md as
// one JSON object, strictly (unknown or repeated fields are errors), but
// for top-level members whose names begin with "_", which are comments
// for the file's readers and are not logged; or the repository's accord
// data file (accordData).
func readAccord(name string) (*attest.Accord, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	pred, err := dropComments(b)
	if err != nil {
		return nil, fmt.Errorf("--file %s: %w", name, err)
	}
	a := new(attest.Accord)
	err = strictJSON(pred, a)
	if err != nil && (strings.Contains(err.Error(), `unknown field "summary"`) || strings.Contains(err.Error(), `unknown field "signatories"`)) {
		if a, derr := accordData(b); derr == nil {
			return a, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("--file %s: %w", name, err)
	}
	return a, nil
}

// accordData reads the other form accord add takes: the accord data file
// of the repository (attest/tech-accord-2018.json, as attest.TechAccord
// reads it), whose summary is the accord's text and _source its source;
// its signatories are not part of the accord (each registers itself).
func accordData(b []byte) (*attest.Accord, error) {
	var f struct {
		Source      string             `json:"_source"`
		ID          string             `json:"id"`
		Title       string             `json:"title"`
		Announced   string             `json:"announced"`
		Summary     string             `json:"summary"`
		Principles  []attest.Principle `json:"principles"`
		Signatories []attest.Company   `json:"signatories"`
	}
	if err := strictJSON(b, &f); err != nil {
		return nil, err
	}
	return &attest.Accord{ID: f.ID, Title: f.Title, Text: f.Summary, Announced: f.Announced, Source: f.Source, Principles: f.Principles}, nil
}

// strictJSON decodes one JSON value into v, refusing unknown fields.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}

// dropComments returns the JSON object b without its top-level members
// named "_…", refusing a member given twice.
func dropComments(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return b, nil // not an object: the strict decode says what it is
	}
	kept := map[string]json.RawMessage{}
	var order []string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, fmt.Errorf("field %q given twice", name)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(name, "_") {
			kept[name], order = v, append(order, name)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i, name := range order {
		if i > 0 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		out.Write(k)
		out.WriteByte(':')
		out.Write(kept[name])
	}
	out.WriteByte('}')
	return out.Bytes(), nil
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
	return f.print(stdout, map[string]any{"keyid": nk.ID(), "index": index},
		fmt.Sprintf("registrar key rotated to %s: index %d\n", nk.ID(), index))
}
