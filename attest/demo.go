package attest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
)

// DemoEffective is the effective date of the demo's pledges: the day the
// accord was announced.
const DemoEffective = "2018-04-17"

// A Demo is the demo log's content: entries in index order and the keys
// that signed them.
type Demo struct {
	Entries   [][]byte                      // genesis, the accord, registrations, pledges
	Registrar ed25519.PrivateKey            // the registrar key (kept in the demo's data dir)
	Keys      map[string]ed25519.PrivateKey // each signatory's key, by signatory id

	seed []byte
}

// NewDemo builds the demo: genesis, the embedded Tech Accord, one
// registration per founding signatory (34) with a generated Ed25519 key,
// and one "committed" pledge per signatory and principle (136): 172
// entries. Every statement says it is demo data, not made or signed by the
// company it names. Keys are derived from seed, and Ed25519 signatures are
// deterministic, so the same origin and seed give the same bytes.
func NewDemo(origin string, seed []byte) (*Demo, error) {
	d := &Demo{Registrar: demoKey(seed, RegistrarID), Keys: map[string]ed25519.PrivateKey{}, seed: seed}
	accord, companies := TechAccord(origin)
	accord.Notice = "Demo data: accord text as reported in public news of its launch."
	regPK, _ := NewPublicKey(d.Registrar.Public())
	if err := d.add(&Registrar{Action: "genesis", Origin: origin, Key: regPK, Notice: "Demo log."}, d.Registrar); err != nil {
		return nil, err
	}
	if err := d.add(accord, d.Registrar); err != nil {
		return nil, err
	}
	for _, c := range companies {
		if err := d.register(origin, c); err != nil {
			return nil, err
		}
	}
	digest, err := PredicateDigest(accord)
	if err != nil {
		return nil, err
	}
	for _, c := range companies {
		for _, pr := range accord.Principles {
			if err := d.pledge(origin, c, accord, pr, digest); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

func demoNotice(c Company) string {
	return fmt.Sprintf("Demo data: not made or signed by %s.", c.Name)
}

func (d *Demo) register(origin string, c Company) error {
	key := demoKey(d.seed, c.ID)
	d.Keys[c.ID] = key
	pk, _ := NewPublicKey(key.Public())
	return d.add(&SignatoryEvent{Action: ActionRegister, Origin: origin, Signatory: c.ID, Name: c.Name,
		Key: &pk, Notice: demoNotice(c)}, d.Registrar, key)
}

func (d *Demo) pledge(origin string, c Company, a *Accord, pr Principle, digest string) error {
	p := &Pledge{Origin: origin, Signatory: c.ID, Accord: a.ID, Principle: pr.ID, Status: StatusCommitted,
		Statement: fmt.Sprintf("Demo data, not made or signed by %s: %s commits to the principle %q of the %s.",
			c.Name, c.Name, pr.Title, a.Title),
		Effective: DemoEffective, Notice: demoNotice(c)}
	leaf, err := SignWithKeys(NewPledgeStatement(p, digest), d.Keys[c.ID])
	if err != nil {
		return err
	}
	d.Entries = append(d.Entries, leaf)
	return nil
}

func (d *Demo) add(p Predicate, keys ...ed25519.PrivateKey) error {
	st, err := NewStatement(p)
	if err != nil {
		return err
	}
	leaf, err := SignWithKeys(st, keys...)
	if err != nil {
		return err
	}
	d.Entries = append(d.Entries, leaf)
	return nil
}

// demoKey derives the Ed25519 key of a principal from the demo seed.
func demoKey(seed []byte, id string) ed25519.PrivateKey {
	s := sha256.Sum256(seed) // fixed length, so seed and id cannot run together
	h := sha256.New()
	h.Write([]byte("pledgelog demo key\x00"))
	h.Write(s[:])
	h.Write([]byte(id))
	return ed25519.NewKeyFromSeed(h.Sum(nil))
}
