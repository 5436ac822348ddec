package attest

import (
	"context"
	"errors"
	"testing"
)

// scenario drives a registry entry by entry and checks every outcome
// against the naive model too.
type scenario struct {
	t      *testing.T
	r      *Registry
	m      *model
	log    [][]byte
	undos  []func()
	digest string
}

func newScenario(t *testing.T) *scenario {
	return &scenario{t: t, r: NewRegistry(testOrigin), m: &model{origin: testOrigin}}
}

// step admits leaf and checks the error against want (nil: admitted).
func (s *scenario) step(name string, leaf []byte, want error) {
	s.t.Helper()
	env, err := ParseLeaf(leaf)
	if err != nil {
		s.t.Fatalf("%s: ParseLeaf = %v", name, err)
	}
	index := uint64(len(s.log))
	e := ment{index: index, leaf: leaf, st: env.Statement}
	for _, sg := range env.Signatures {
		e.keys = append(e.keys, sg.KeyID)
	}
	if _, verr := s.r.Verify(env); want == nil && verr != nil {
		s.t.Fatalf("%s: Verify = %v", name, verr)
	}
	modelOK := s.m.admissible(index, env.Statement, e.keys)
	undo, err := s.r.Admit(context.Background(), index, leaf)
	if !errors.Is(err, want) || (err == nil) != modelOK {
		s.t.Fatalf("%s: Admit = %v, want %v (model admits: %v)", name, err, want, modelOK)
	}
	if err == nil {
		s.log = append(s.log, leaf)
		s.m.ents = append(s.m.ents, e)
		s.undos = append(s.undos, undo)
	}
}

// undo reverts the last n admitted entries, as a failed batch commit does.
func (s *scenario) undo(n int) {
	for range n {
		last := len(s.undos) - 1
		s.undos[last]()
		s.undos, s.log, s.m.ents = s.undos[:last], s.log[:last], s.m.ents[:last]
	}
}

func (s *scenario) head(id string) (uint64, string) {
	seq, h, _ := s.m.head(id)
	return seq + 1, h
}

func (s *scenario) pledge(sig, principle string, k testKey) []byte {
	return sign(s.t, &Pledge{Origin: testOrigin, Signatory: sig, Accord: "a1", Principle: principle,
		Status: StatusCommitted, Statement: "x", Effective: "2026-01-01"}, s.digest, k)
}

func (s *scenario) addKey(sig string, by, k testKey) []byte {
	seq, prev := s.head(sig)
	return sign(s.t, &SignatoryEvent{Action: ActionAddKey, Origin: testOrigin, Signatory: sig, Seq: seq, Prev: prev, Key: pk(k)}, "", by, k)
}

func (s *scenario) revoke(sig string, by, k testKey, voidFrom *uint64) []byte {
	seq, prev := s.head(sig)
	reason := ReasonSuperseded
	if voidFrom != nil {
		reason = ReasonCompromised
	}
	return sign(s.t, &SignatoryEvent{Action: ActionRevoke, Origin: testOrigin, Signatory: sig, Seq: seq, Prev: prev,
		KeyID: k.id(), Reason: reason, VoidFrom: voidFrom}, "", by)
}

// setup: 0 genesis, 1 accord a1, 2 register s1 (k1), 3 register s2 (k2).
func (s *scenario) setup(reg, k1, k2 testKey) {
	a := &Accord{Origin: testOrigin, ID: "a1", Title: "A", Text: "t",
		Principles: []Principle{{ID: "p1", Title: "P", Text: "t"}, {ID: "p2", Title: "Q", Text: "t"}}}
	s.digest, _ = PredicateDigest(a)
	s.step("genesis", sign(s.t, &Registrar{Action: "genesis", Origin: testOrigin, Key: reg.pub}, "", reg), nil)
	s.step("accord", sign(s.t, a, "", reg), nil)
	for _, x := range []struct {
		id string
		k  testKey
	}{{"s1", k1}, {"s2", k2}} {
		s.step("register "+x.id, sign(s.t, &SignatoryEvent{Action: ActionRegister, Origin: testOrigin, Signatory: x.id,
			Name: x.id, Key: pk(x.k)}, "", reg, x.k), nil)
	}
}

func TestScenarios(t *testing.T) {
	reg, reg2 := edKey(t, "reg"), ecKey(t, "reg2")
	k1, k2, k3, k4 := edKey(t, "k1"), edKey(t, "k2"), ecKey(t, "k3"), edKey(t, "k4")

	t.Run("replays and forks", func(t *testing.T) {
		s := newScenario(t)
		s.setup(reg, k1, k2)
		s.step("register again", s.log[2], ErrExists)
		add := s.addKey("s1", k1, k3)
		fork := s.addKey("s1", k1, k4) // same prev
		s.step("add k3", add, nil)
		s.step("replayed add", add, ErrChainHead)
		s.step("fork", fork, ErrChainHead)
		s.step("second genesis", sign(t, &Registrar{Action: "genesis", Origin: testOrigin, Key: k4.pub}, "", k4), ErrExists)
	})
	t.Run("keys", func(t *testing.T) {
		s := newScenario(t)
		s.setup(reg, k1, k2)
		s.step("pledge with a foreign key", s.pledge("s2", "p1", k1), ErrForeignKey)
		s.step("pledge with an unknown key", s.pledge("s1", "p1", k3), ErrUnknownKey)
		s.step("add another's key", s.addKey("s1", k1, k2), ErrExists)
		s.step("add k3", s.addKey("s1", k1, k3), nil)
		s.step("revoke k3", s.revoke("s1", k1, k3, nil), nil)
		s.step("re-add k3", s.addKey("s1", k1, k3), ErrRevokedKey)
		s.step("pledge with k3", s.pledge("s1", "p1", k3), ErrRevokedKey)
		s.step("revoke k3 again", s.revoke("s1", k1, k3, nil), ErrRevokedKey)
		s.step("k3 compromised after all", s.revoke("s1", k1, k3, u64(5)), nil)
	})
	t.Run("revoke in a failed batch", func(t *testing.T) {
		s := newScenario(t)
		s.setup(reg, k1, k2)
		s.step("add k3", s.addKey("s1", k1, k3), nil)
		s.step("revoke k1", s.revoke("s1", k3, k1, nil), nil)
		s.step("pledge with k1 after", s.pledge("s1", "p1", k1), ErrRevokedKey)
		s.undo(1)
		if k, _ := s.r.Key("s1", k1.id()); !k.Valid() {
			t.Fatalf("k1 still revoked after undo")
		}
		s.step("pledge with k1", s.pledge("s1", "p1", k1), nil)
		if got := s.r.Latest("s1"); len(got) != 1 || got[0].Index != 5 {
			t.Fatalf("Latest = %+v", got)
		}
	})
	t.Run("registrar rotation", func(t *testing.T) {
		s := newScenario(t)
		s.setup(reg, k1, k2)
		seq, prev := s.head(RegistrarID)
		s.step("rotate", sign(t, &Registrar{Action: "rotate", Origin: testOrigin, Seq: seq, Prev: prev, Key: reg2.pub}, "", reg, reg2), nil)
		a := &Accord{Origin: testOrigin, ID: "a2", Title: "A2", Text: "t", Principles: []Principle{{ID: "p", Title: "P", Text: "t"}}}
		s.step("accord by the old key", sign(t, a, "", reg), ErrRevokedKey)
		s.step("accord by the new key", sign(t, a, "", reg2), nil)
		seq, prev = s.head(RegistrarID)
		s.step("rotate back", sign(t, &Registrar{Action: "rotate", Origin: testOrigin, Seq: seq, Prev: prev, Key: reg.pub}, "", reg2, reg), ErrRevokedKey)
		s.step("revoke by the registrar", s.revoke("s2", reg2, k2, nil), nil)
	})
	t.Run("compromise window and cascade", func(t *testing.T) {
		s := newScenario(t)
		s.setup(reg, k1, k2)
		s.step("add k3", s.addKey("s1", k1, k3), nil)           // 4
		s.step("p1 by k3", s.pledge("s1", "p1", k3), nil)       // 5
		s.step("p1 by k1", s.pledge("s1", "p1", k1), nil)       // 6
		s.step("p1 by k3 again", s.pledge("s1", "p1", k3), nil) // 7
		s.step("k3 compromised from 7", s.revoke("s1", k1, k3, u64(7)), nil)
		if got := s.r.Latest("s1"); len(got) != 1 || got[0].Index != 6 {
			t.Fatalf("Latest = %+v, want index 6", got)
		}
		s.step("k1 compromised from 4", s.revoke("s1", k1, k1, u64(4)), nil)
		k3info, _ := s.r.Key("s1", k3.id())
		if got := s.r.Latest("s1"); len(got) != 0 || k3info.VoidFrom == nil || *k3info.VoidFrom != 5 {
			t.Fatalf("Latest = %+v, k3 void from %v; want none, 5", got, k3info.VoidFrom)
		}
		s.step("voidFrom before the key", s.revoke("s2", k2, k2, u64(2)), ErrMalformed)
		s.step("voidFrom in the future", s.revoke("s2", k2, k2, u64(100)), ErrMalformed)
	})
	// Issue 15 item 7: a secondary key declared the original key
	// compromised from just after its registration, which voided every
	// pledge of the signatory and, through the add-key the original key
	// signed, the secondary key itself; nobody could undo it.
	t.Run("revocation by a thief", func(t *testing.T) {
		s := newScenario(t)
		s.setup(reg, k1, k2) // s1 registered with k1 at 2
		for _, p := range []string{"p1", "p2"} {
			s.step("pledge "+p+" by k1", s.pledge("s1", p, k1), nil) // 4, 5
		}
		s.step("add k3", s.addKey("s1", k1, k3), nil) // 6
		s.step("k3 voids k1 from its registration", s.revoke("s1", k3, k1, u64(3)), ErrForeignKey)
		s.step("k3 voids k1 from its own addition", s.revoke("s1", k3, k1, u64(6)), ErrForeignKey)
		if got := s.r.Latest("s1"); len(got) != 2 || got[0].Index != 4 || got[1].Index != 5 {
			t.Fatalf("Latest after the refused revocations = %+v, want the pledges at 4 and 5", got)
		}
		s.step("pledge p1 by k1 after k3", s.pledge("s1", "p1", k1), nil) // 7
		s.step("k3 voids k1 after its addition", s.revoke("s1", k3, k1, u64(7)), nil)
		k3info, _ := s.r.Key("s1", k3.id())
		if got := s.r.Latest("s1"); len(got) != 2 || got[0].Index != 4 || got[1].Index != 5 || !k3info.Valid() {
			t.Fatalf("Latest = %+v, k3 valid %v; want 4 and 5 and k3 valid", got, k3info.Valid())
		}
		// The registrar, and a key older than the one it revokes, are not held.
		s2 := newScenario(t)
		s2.setup(reg, k1, k2)
		s2.step("pledge by k1", s2.pledge("s1", "p1", k1), nil) // 4
		s2.step("add k3", s2.addKey("s1", k1, k3), nil)         // 5
		s2.step("add k4 by k3", s2.addKey("s1", k3, k4), nil)   // 6
		s2.step("k1 voids k3 from 6", s2.revoke("s1", k1, k3, u64(6)), nil)
		if k4info, _ := s2.r.Key("s1", k4.id()); k4info.VoidFrom == nil || *k4info.VoidFrom != 7 {
			t.Fatalf("k4 void from %v, want 7 (added by k3 in its compromise window)", k4info.VoidFrom)
		}
		s2.step("registrar voids k1 from 3", s2.revoke("s1", reg, k1, u64(3)), nil)
		if got := s2.r.Latest("s1"); len(got) != 0 {
			t.Fatalf("Latest after the registrar's revocation = %+v, want none", got)
		}
	})
	t.Run("wrong origin", func(t *testing.T) {
		s := newScenario(t)
		s.setup(reg, k1, k2)
		p := &Pledge{Origin: "other.example/log", Signatory: "s1", Accord: "a1", Principle: "p1",
			Status: StatusCommitted, Statement: "x", Effective: "2026-01-01"}
		s.step("other origin", sign(t, p, s.digest, k1), ErrMalformed)
	})
}
