package bundle

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/pledgelog/pledgelog/verify"
)

// TLogProofHeader is the first line of a c2sp.org/tlog-proof file.
const TLogProofHeader = "c2sp.org/tlog-proof@v1"

// MarshalTLogProof returns the bundle's entry proof in the
// c2sp.org/tlog-proof form:
//
//	c2sp.org/tlog-proof@v1
//	extra <base64 of the entry's leaf>
//	index <index>
//	<one base64 hash per line>
//	<blank line>
//	<the checkpoint note>
//
// The leaf travels in the unauthenticated extra line, so the file alone
// proves the entry's inclusion; it carries no evidence, so it does not
// prove who signed the entry.
func MarshalTLogProof(b *Bundle) []byte {
	return appendTLogProof(nil, b.Entry.Index, b.Entry.Proof, b.Checkpoint, b.Entry.Leaf)
}

func appendTLogProof(out []byte, index uint64, proof []verify.Hash, checkpoint, extra []byte) []byte {
	out = append(out, TLogProofHeader+"\n"...)
	if extra != nil {
		out = append(out, "extra "...)
		out = base64.StdEncoding.AppendEncode(out, extra)
		out = append(out, '\n')
	}
	out = append(out, "index "...)
	out = strconv.AppendUint(out, index, 10)
	out = append(out, '\n')
	for _, h := range proof {
		out = base64.StdEncoding.AppendEncode(out, h[:])
		out = append(out, '\n')
	}
	out = append(out, '\n')
	return append(out, checkpoint...)
}

// ParseTLogProof parses a c2sp.org/tlog-proof file strictly: the header
// line; an optional extra line of canonical standard base64 (extra is nil
// without it); the index in canonical decimal; at most MaxProof hashes of
// canonical base64; a blank line; and a syntactically valid signed
// checkpoint, up to the end. It verifies nothing.
func ParseTLogProof(data []byte) (index uint64, proof []verify.Hash, checkpoint, extra []byte, err error) {
	if len(data) > MaxSize {
		return 0, nil, nil, nil, tlogErr("file", fmt.Errorf("more than %d bytes", MaxSize))
	}
	rest, ok := bytes.CutPrefix(data, []byte(TLogProofHeader+"\n"))
	if !ok {
		return 0, nil, nil, nil, tlogErr("header", errors.New("missing "+TLogProofHeader))
	}
	if extra, rest, err = parseExtra(rest); err != nil {
		return 0, nil, nil, nil, err
	}
	if index, rest, err = parseIndex(rest); err != nil {
		return 0, nil, nil, nil, err
	}
	if proof, rest, err = parseHashes(rest); err != nil {
		return 0, nil, nil, nil, err
	}
	if err := parseCheckpoint(rest); err != nil {
		return 0, nil, nil, nil, tlogErr("checkpoint", err)
	}
	return index, proof, rest, extra, nil
}

func tlogErr(field string, cause error) error {
	return fieldErr("tlog-proof."+field, ErrMalformed, cause)
}

// line splits off the first line of b, without its newline.
func line(b []byte) (string, []byte, bool) {
	l, rest, ok := bytes.Cut(b, []byte("\n"))
	return string(l), rest, ok
}

func parseExtra(b []byte) ([]byte, []byte, error) {
	l, rest, _ := line(b)
	s, ok := bytes.CutPrefix([]byte(l), []byte("extra "))
	if !ok {
		return nil, b, nil
	}
	extra, err := base64.StdEncoding.Strict().DecodeString(string(s))
	if err != nil || base64.StdEncoding.EncodeToString(extra) != string(s) {
		return nil, nil, tlogErr("extra", errors.New("not canonical standard base64"))
	}
	return extra, rest, nil
}

func parseIndex(b []byte) (uint64, []byte, error) {
	l, rest, ok := line(b)
	s, found := bytes.CutPrefix([]byte(l), []byte("index "))
	if !ok || !found {
		return 0, nil, tlogErr("index", errors.New("missing index line"))
	}
	i, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil || strconv.FormatUint(i, 10) != string(s) {
		return 0, nil, tlogErr("index", fmt.Errorf("%q is not a canonical index", s))
	}
	return i, rest, nil
}

func parseHashes(b []byte) ([]verify.Hash, []byte, error) {
	proof := []verify.Hash{}
	for {
		l, rest, ok := line(b)
		if !ok {
			return nil, nil, tlogErr("proof", errors.New("missing blank line"))
		}
		if l == "" {
			return proof, rest, nil
		}
		if len(proof) == MaxProof {
			return nil, nil, tlogErr("proof", fmt.Errorf("more than %d hashes", MaxProof))
		}
		h, err := verify.ParseHash(l)
		if err != nil {
			return nil, nil, tlogErr(fmt.Sprintf("proof[%d]", len(proof)), err)
		}
		proof, b = append(proof, h), rest
	}
}
