package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/verify"
)

type entryData struct {
	Index     uint64
	Leaf      string // the entry, standard base64: what the page proves
	LeafHash  string
	Published bool   // the published checkpoint includes the entry
	Statement string // the payload, indented
	Type      string
	Subject   []attest.Subject
	Registrar *attest.Registrar
	Accord    *attest.Accord
	Event     *attest.SignatoryEvent
	Pledge    *attest.Pledge
	Notice    string
	Keys      []signingKey
	Envelope  string
}

// signingKey is a signature of the envelope and the key it names.
type signingKey struct {
	KeyID string
	Sig   string
	Known bool
	Key   attest.KeyInfo
	SPKI  string // standard base64, for the page's script
}

func (u *ui) entry(c echo.Context) error {
	index, err := parseNumber("index", c.Param("index"))
	if err != nil {
		return err
	}
	leaf, err := u.s.entry(c.Request().Context(), index)
	if err != nil {
		return err
	}
	d, err := u.entryData(index, leaf)
	if err != nil {
		return err
	}
	return u.render(c, 200, "entry", "Entry "+c.Param("index"), d)
}

func (u *ui) entryData(index uint64, leaf []byte) (*entryData, error) {
	env, err := attest.ParseLeaf(leaf)
	if err != nil {
		return nil, err
	}
	h := verify.LeafHash(leaf)
	d := &entryData{Index: index, Leaf: base64.StdEncoding.EncodeToString(leaf), LeafHash: h.String(),
		Published: index < u.s.log.Published().Size, Type: env.Statement.PredicateType,
		Subject: env.Statement.Subject, Envelope: string(leaf)}
	var buf bytes.Buffer
	if err := json.Indent(&buf, env.Payload, "", "  "); err != nil {
		return nil, err
	}
	d.Statement = buf.String()
	d.setPredicate(env.Statement.Predicate)
	for _, s := range env.Signatures {
		d.Keys = append(d.Keys, u.signingKey(env.Statement.Signatory(), s))
	}
	return d, nil
}

func (d *entryData) setPredicate(p attest.Predicate) {
	switch p := p.(type) {
	case *attest.Registrar:
		d.Registrar, d.Notice = p, p.Notice
	case *attest.Accord:
		d.Accord, d.Notice = p, p.Notice
	case *attest.SignatoryEvent:
		d.Event, d.Notice = p, p.Notice
	case *attest.Pledge:
		d.Pledge, d.Notice = p, p.Notice
	}
}

// signingKey finds the key a signature names: the statement's principal's
// or the registrar's.
func (u *ui) signingKey(principal string, s attest.Signature) signingKey {
	k := signingKey{KeyID: s.KeyID, Sig: base64.StdEncoding.EncodeToString(s.Sig)}
	for _, owner := range []string{principal, attest.RegistrarID} {
		info, err := u.s.reg.Key(owner, s.KeyID)
		if err == nil || errors.Is(err, attest.ErrRevokedKey) {
			k.Known, k.Key, k.SPKI = true, info, base64.StdEncoding.EncodeToString(info.SPKI)
			return k
		}
	}
	return k
}
