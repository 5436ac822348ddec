package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"

	"github.com/pledgelog/pledgelog/attest"
)

// prepared is what the fetch stage computes for one entry, in parallel,
// without any registry state: the PAE its signatures sign, the
// signatures, and the dedup key. It comes from a light split of the
// canonical leaf (split), not a JSON parse: the sequential stage's
// Registry.Admit parses the entry strictly, and only entries it accepts
// have their signatures checked, so a leaf that split wrongly is never
// used.
type prepared struct {
	pae   []byte
	sigs  []attest.Signature
	dedup [sha256.Size]byte
	ok    bool // the split worked
}

const (
	leafPrefix = `{"payload":"`
	leafMiddle = `","payloadType":"` + attest.PayloadType + `","signatures":[`
	sigPrefix  = `{"keyid":"`
	sigMiddle  = `","sig":"`
	sigSuffix  = `"}`
)

// prepare splits a canonical leaf (see package attest):
//
//	{"payload":"…","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"…","sig":"…"},…]}
func prepare(leaf []byte) prepared {
	rest, ok := bytes.CutPrefix(leaf, []byte(leafPrefix))
	i := bytes.IndexByte(rest, '"')
	if !ok || i < 0 {
		return prepared{}
	}
	payload, err := base64.StdEncoding.Strict().DecodeString(string(rest[:i]))
	rest, ok = bytes.CutPrefix(rest[i:], []byte(leafMiddle))
	if err != nil || !ok {
		return prepared{}
	}
	p := prepared{pae: (&attest.Envelope{Payload: payload}).PAE()}
	p.dedup = sha256.Sum256(p.pae)
	p.sigs, p.ok = splitSigs(rest)
	return p
}

// splitSigs splits `{"keyid":"…","sig":"…"},…]}`.
func splitSigs(rest []byte) ([]attest.Signature, bool) {
	var sigs []attest.Signature
	for {
		var ok bool
		var s attest.Signature
		if s, rest, ok = splitSig(rest); !ok {
			return nil, false
		}
		sigs = append(sigs, s)
		if bytes.Equal(rest, []byte("]}")) {
			return sigs, true
		}
		if rest, ok = bytes.CutPrefix(rest, []byte(",")); !ok {
			return nil, false
		}
	}
}

func splitSig(rest []byte) (attest.Signature, []byte, bool) {
	rest, ok := bytes.CutPrefix(rest, []byte(sigPrefix))
	i := bytes.IndexByte(rest, '"')
	if !ok || i < 0 {
		return attest.Signature{}, nil, false
	}
	keyid := string(rest[:i])
	rest, ok = bytes.CutPrefix(rest[i:], []byte(sigMiddle))
	j := bytes.IndexByte(rest, '"')
	if !ok || j < 0 {
		return attest.Signature{}, nil, false
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(string(rest[:j]))
	rest, ok = bytes.CutPrefix(rest[j:], []byte(sigSuffix))
	return attest.Signature{KeyID: keyid, Sig: sig}, rest, err == nil && ok
}
