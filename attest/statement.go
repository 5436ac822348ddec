package attest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/gowebpki/jcs"
)

// Media and type URIs. The payload type is fixed; the predicate type picks
// the schema.
const (
	PayloadType   = "application/vnd.in-toto+json"
	StatementType = "https://in-toto.io/Statement/v1"
	RegistrarType = "https://pledgelog.dev/registrar/v1"
	AccordType    = "https://pledgelog.dev/accord/v1"
	SignatoryType = "https://pledgelog.dev/signatory/v1"
	PledgeType    = "https://pledgelog.dev/pledge/v1"
)

// A Statement is an in-toto Statement v1 carrying one of the four
// predicates: *Registrar, *Accord, *SignatoryEvent or *Pledge.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// A Subject names what a statement is about. Only sha256 digests are used.
type Subject struct {
	Name   string `json:"name"`
	Digest Digest `json:"digest"`
}

// Digest is an in-toto DigestSet restricted to one algorithm.
type Digest struct {
	SHA256 string `json:"sha256"` // lowercase hex
}

// Predicate is implemented by *Registrar, *Accord, *SignatoryEvent and
// *Pledge.
type Predicate interface {
	// PredicateType returns the predicate's type URI.
	PredicateType() string
	// validate checks the closed enums and field rules; ptr is the
	// predicate's JSON pointer.
	validate(ptr string) error
	// signers is the number of signatures the entry must carry.
	signers() int
}

// NewStatement wraps a registrar, accord or signatory predicate in a
// Statement whose subject is the entity it defines (the origin, the accord
// id or the signatory id) with the SHA-256 of the predicate's canonical
// JSON as digest. Pledges name their accord instead: use
// [NewPledgeStatement].
func NewStatement(p Predicate) (*Statement, error) {
	d, err := PredicateDigest(p)
	if err != nil {
		return nil, err
	}
	return &Statement{Type: StatementType, PredicateType: p.PredicateType(), Predicate: p,
		Subject: []Subject{{Name: subjectName(p), Digest: Digest{SHA256: d}}}}, nil
}

// NewPledgeStatement wraps a pledge; accordDigest is the SHA-256 of the
// accord entry's canonical predicate ([AccordInfo].Digest).
func NewPledgeStatement(p *Pledge, accordDigest string) *Statement {
	return &Statement{Type: StatementType, PredicateType: PledgeType, Predicate: p,
		Subject: []Subject{{Name: p.Accord, Digest: Digest{SHA256: accordDigest}}}}
}

func subjectName(p Predicate) string {
	switch p := p.(type) {
	case *Registrar:
		return p.Origin
	case *Accord:
		return p.ID
	case *SignatoryEvent:
		return p.Signatory
	case *Pledge:
		return p.Accord
	}
	return ""
}

// PredicateDigest returns the lowercase hex SHA-256 of p's RFC 8785 form.
func PredicateDigest(p Predicate) (string, error) {
	b, err := canonicalJSON(p)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// Signatory returns the signatory the statement speaks for, or
// [RegistrarID] for registrar and accord statements.
func (s *Statement) Signatory() string {
	switch p := s.Predicate.(type) {
	case *SignatoryEvent:
		return p.Signatory
	case *Pledge:
		return p.Signatory
	}
	return RegistrarID
}

// Origin returns the log origin named in the predicate.
func (s *Statement) Origin() string {
	switch p := s.Predicate.(type) {
	case *Registrar:
		return p.Origin
	case *Accord:
		return p.Origin
	case *SignatoryEvent:
		return p.Origin
	case *Pledge:
		return p.Origin
	}
	return ""
}

// Marshal returns the statement's canonical (RFC 8785) JSON, the DSSE
// payload.
func (s *Statement) Marshal() ([]byte, error) { return canonicalJSON(s) }

func canonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jcs.Transform(b)
}

func newPredicate(typ string) Predicate {
	switch typ {
	case RegistrarType:
		return new(Registrar)
	case AccordType:
		return new(Accord)
	case SignatoryType:
		return new(SignatoryEvent)
	case PledgeType:
		return new(Pledge)
	}
	return nil
}

// parseStatement decodes a payload and checks that it is exactly the
// canonical encoding of a valid statement. Pointers start at /payload.
func parseStatement(payload []byte) (*Statement, error) {
	if st, ok := scanStatement(payload); ok {
		return st, st.validate()
	}
	st, err := decodeStatement(payload)
	if err != nil {
		return nil, err
	}
	return st, st.validate()
}

// decodeStatement is the general path: it decodes payload with
// encoding/json and checks that it is exactly the canonical encoding of
// what it decoded, explaining any difference.
func decodeStatement(payload []byte) (*Statement, error) {
	if err := checkDepth(payload, "/payload"); err != nil {
		return nil, err
	}
	var raw struct {
		Type          string          `json:"_type"`
		Subject       []Subject       `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, explain(payload, nil, err, "/payload")
	}
	p := newPredicate(raw.PredicateType)
	if p == nil {
		return nil, malformed("/payload/predicateType", "unknown-predicate-type", "%q", raw.PredicateType)
	}
	if err := json.Unmarshal(raw.Predicate, p); err != nil {
		return nil, explain(payload, nil, err, "/payload/predicate")
	}
	st := &Statement{Type: raw.Type, Subject: raw.Subject, PredicateType: raw.PredicateType, Predicate: p}
	canon, err := st.Marshal()
	if err != nil {
		return nil, malformed("/payload", "invalid-json", "%s", jsonDetail(err))
	}
	if !bytes.Equal(canon, payload) {
		return nil, explain(payload, canon, nil, "/payload")
	}
	return st, nil
}

// explain finds the field behind a decoding failure or a difference
// between payload and its canonical form.
func explain(payload, canon []byte, decodeErr error, ptr string) error {
	in, err := parseTree(payload, "/payload")
	if err != nil {
		return err // invalid JSON or a duplicate key
	}
	if decodeErr != nil {
		return malformed(jsonFieldPointer(ptr, decodeErr), "wrong-type", "%s", jsonDetail(decodeErr))
	}
	c, err := parseTree(canon, "/payload")
	if err != nil {
		return err
	}
	if err := diff(in, c, "/payload"); err != nil {
		return err
	}
	return malformed("/payload", "not-canonical", "payload is not RFC 8785 JSON")
}

func (s *Statement) validate() error {
	if s.Type != StatementType {
		return malformed("/payload/_type", "wrong-value", "want %q", StatementType)
	}
	if len(s.Subject) != 1 {
		return malformed("/payload/subject", "wrong-count", "want exactly one subject")
	}
	if !isHex64(s.Subject[0].Digest.SHA256) {
		return malformed("/payload/subject/0/digest/sha256", "wrong-value", "want 64 lowercase hex digits")
	}
	if err := s.Predicate.validate("/payload/predicate"); err != nil {
		return err
	}
	if s.Subject[0].Name != subjectName(s.Predicate) {
		return malformed("/payload/subject/0/name", "wrong-value", "want %q", subjectName(s.Predicate))
	}
	if _, ok := s.Predicate.(*Pledge); ok {
		return nil // the accord digest is checked against the registry
	}
	if d, _ := PredicateDigest(s.Predicate); d != s.Subject[0].Digest.SHA256 {
		return malformed("/payload/subject/0/digest/sha256", "wrong-digest", "want SHA-256 of the canonical predicate")
	}
	return nil
}

// schemaFields is the set of JSON member names used by the schemas, so
// that an empty optional field can be told from an unknown one.
var schemaFields = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, v := range []any{Statement{}, Subject{}, Registrar{}, Accord{}, Principle{}, SignatoryEvent{}, Pledge{}, PublicKey{}} {
		t := reflect.TypeOf(v)
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			m[name] = true
		}
	}
	return m
})
