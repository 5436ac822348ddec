package attest_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"

	"github.com/pledgelog/pledgelog/attest"
)

// The worked example of the package documentation: a pledge signed with
// the Ed25519 key whose seed is SHA-256("example signatory key").
func ExampleSign() {
	seed := sha256.Sum256([]byte("example signatory key"))
	signer, _ := attest.NewSigner(ed25519.NewKeyFromSeed(seed[:]))
	p := &attest.Pledge{
		Origin:    "log.example.org/tech-accord",
		Signatory: "example-corp",
		Accord:    "cybersecurity-tech-accord-2018",
		Principle: "no-offense",
		Status:    attest.StatusCommitted,
		Statement: "We will not help governments launch cyberattacks.",
		Effective: "2026-01-02",
	}
	accord, _ := attest.TechAccord("log.example.org/tech-accord")
	digest, _ := attest.PredicateDigest(accord)
	st := attest.NewPledgeStatement(p, digest)
	payload, _ := st.Marshal()
	leaf, _ := attest.Sign(st, signer)
	env, _ := attest.ParseLeaf(leaf)
	fmt.Printf("payload: %s\n", payload)
	fmt.Printf("PAE: %.45s…\n", env.PAE())
	fmt.Printf("keyid: %s\n", env.Signatures[0].KeyID)
	fmt.Printf("leaf: %s\n", leaf)
	fmt.Printf("dedup key: %x\n", env.DedupKey())
	// Output:
	// payload: {"_type":"https://in-toto.io/Statement/v1","predicate":{"accord":"cybersecurity-tech-accord-2018","effective":"2026-01-02","origin":"log.example.org/tech-accord","principle":"no-offense","signatory":"example-corp","statement":"We will not help governments launch cyberattacks.","status":"committed"},"predicateType":"https://pledgelog.dev/pledge/v1","subject":[{"digest":{"sha256":"1424681bb8ac18ba4e0e6d44dc513e1f669f693a0fcab7960dfd320348701ad6"},"name":"cybersecurity-tech-accord-2018"}]}
	// PAE: DSSEv1 28 application/vnd.in-toto+json 491 {"…
	// keyid: 6c53b2b322a406ee22941ea2b63cf0d2f37cd97b69c20db95926fa18213ed35c
	// leaf: {"payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJwcmVkaWNhdGUiOnsiYWNjb3JkIjoiY3liZXJzZWN1cml0eS10ZWNoLWFjY29yZC0yMDE4IiwiZWZmZWN0aXZlIjoiMjAyNi0wMS0wMiIsIm9yaWdpbiI6ImxvZy5leGFtcGxlLm9yZy90ZWNoLWFjY29yZCIsInByaW5jaXBsZSI6Im5vLW9mZmVuc2UiLCJzaWduYXRvcnkiOiJleGFtcGxlLWNvcnAiLCJzdGF0ZW1lbnQiOiJXZSB3aWxsIG5vdCBoZWxwIGdvdmVybm1lbnRzIGxhdW5jaCBjeWJlcmF0dGFja3MuIiwic3RhdHVzIjoiY29tbWl0dGVkIn0sInByZWRpY2F0ZVR5cGUiOiJodHRwczovL3BsZWRnZWxvZy5kZXYvcGxlZGdlL3YxIiwic3ViamVjdCI6W3siZGlnZXN0Ijp7InNoYTI1NiI6IjE0MjQ2ODFiYjhhYzE4YmE0ZTBlNmQ0NGRjNTEzZTFmNjY5ZjY5M2EwZmNhYjc5NjBkZmQzMjAzNDg3MDFhZDYifSwibmFtZSI6ImN5YmVyc2VjdXJpdHktdGVjaC1hY2NvcmQtMjAxOCJ9XX0=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"6c53b2b322a406ee22941ea2b63cf0d2f37cd97b69c20db95926fa18213ed35c","sig":"ew161WVCLg95XzZBYd+nVLm7C/MDrxe37wuhV8YdurXPttiHeiutctx2oqpzd2xR8jg4vnEspILb0x4CxfU+Ag=="}]}
	// dedup key: 6522365f187cb9e56e99d0fc1e72047f5f179f4dd6cdce102bc39fdfed7030ef
}
