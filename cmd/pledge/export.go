package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify/bundle"
)

// SigstoreMediaType is the media type of the bundles pledge export
// writes: Sigstore's bundle format, version 0.3.
const SigstoreMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// runExport writes a Sigstore bundle holding the DSSE envelope of a
// pledge (or of any entry with one signature), so that Sigstore's tools
// verify its signature with the signatory's public key; see "Sigstore
// bundles" in docs/formats.md.
func runExport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var in, out string
	fl := newFlags("export", "[--in FILE] [--out FILE]", stderr)
	fl.StringVar(&in, "in", "envelope.bundle.json", "a proof bundle saved by pledge submit, or an envelope written by pledge sign")
	fl.StringVar(&out, "out", "-", "the Sigstore bundle file (- is stdout)")
	if err := parse(fl, args); err != nil {
		return err
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("--in: %w", err)
	}
	env, err := exportedEnvelope(data)
	if err != nil {
		return fmt.Errorf("--in %s: %w", in, err)
	}
	b, err := SigstoreBundle(env)
	if err != nil {
		return fmt.Errorf("--in %s: %w", in, err)
	}
	if err := writeOut(out, b, stdout); err != nil {
		return err
	}
	if out != "-" {
		_, err = fmt.Fprintf(stdout, "wrote %s: a Sigstore bundle of the envelope signed by key %s\n", out, env.Signatures[0].KeyID)
	}
	return err
}

// exportedEnvelope reads the envelope of a pledgelog proof bundle, or an
// envelope in any DSSE form the log accepts.
func exportedEnvelope(data []byte) (*attest.Envelope, error) {
	b, berr := bundle.Parse(data)
	if berr == nil {
		return attest.ParseLeaf(b.Entry.Leaf)
	}
	_, env, err := attest.Canonicalize(data)
	if err != nil {
		return nil, fmt.Errorf("neither a proof bundle (%v) nor an envelope (%w)", berr, err)
	}
	return env, nil
}

// SigstoreBundle returns the Sigstore bundle (v0.3, protobuf JSON) of an
// envelope with one signature: the envelope with its keyid emptied, and
// as verification material a public-key hint, the pledgelog key id. The
// DSSE signature covers only the payload type and payload, so emptying
// the unsigned keyid keeps it valid.
func SigstoreBundle(env *attest.Envelope) ([]byte, error) {
	if len(env.Signatures) != 1 {
		return nil, errors.New("a Sigstore bundle holds one signature, this envelope has two (a registry event signed by two keys)")
	}
	s := env.Signatures[0]
	b := &protobundle.Bundle{
		MediaType: SigstoreMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: s.KeyID}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     env.Payload,
			PayloadType: attest.PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: s.Sig, Keyid: ""}},
		}},
	}
	return protojson.MarshalOptions{Indent: "  "}.Marshal(b)
}
