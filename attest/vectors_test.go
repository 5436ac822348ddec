package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gowebpki/jcs"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors (TestWriteVectors)")

// The DSSE vector is from secure-systems-lab/dsse protocol.md, "Test
// Vectors" (v1.0.2, Apache-2.0).
func TestDSSEVector(t *testing.T) {
	const wantPAE = "DSSEv1 29 http://example.com/HelloWorld 11 hello world"
	if got := dsse.PAE("http://example.com/HelloWorld", []byte("hello world")); string(got) != wantPAE {
		t.Fatalf("PAE = %q, want %q", got, wantPAE)
	}
	x, _ := new(big.Int).SetString("46950820868899156662930047687818585632848591499744589407958293238635476079160", 10)
	y, _ := new(big.Int).SetString("5640078356564379163099075877009565129882514886557779369047442380624545832820", 10)
	point := append([]byte{4}, append(pad32(x), pad32(y)...)...) // SEC 1 uncompressed
	ecpub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := NewPublicKey(ecpub)
	if err != nil {
		t.Fatal(err)
	}
	vk, err := pub.parsed()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString("A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==")
	r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
	der, _ := asn1.Marshal(ecdsaSig{R: r, S: s})
	low, err := lowS(der)
	if err != nil {
		t.Fatal(err)
	}
	highS := s.Cmp(new(big.Int).Rsh(elliptic.P256().Params().N, 1)) > 0
	if err := vk.verify([]byte(wantPAE), low); err != nil {
		t.Errorf("verify(low-S vector) = %v", err)
	}
	if err := vk.verify([]byte(wantPAE), der); highS != errors.Is(err, ErrBadSignature) {
		t.Errorf("verify(vector as given, high S %v) = %v", highS, err)
	}
	if err := vk.verify([]byte(wantPAE), raw); !errors.Is(err, ErrBadSignature) {
		t.Errorf("verify(raw r||s) = %v, want ErrBadSignature", err)
	}
	if err := vk.verify([]byte(wantPAE+"!"), low); !errors.Is(err, ErrBadSignature) {
		t.Errorf("verify(other message) = %v, want ErrBadSignature", err)
	}
}

// RFC 8785 Appendix B (number serialisation) and §3.2.2 / §3.2.3. The 24
// rows of the Appendix B table were compared, row by row, with the table
// as four independent implementations' test suites (JavaScript,
// TypeScript, Dart, Python) copy it from the RFC: all equal.
func TestRFC8785(t *testing.T) {
	numbers := []struct{ bits, want string }{
		{"0000000000000000", "0"},
		{"8000000000000000", "0"},
		{"0000000000000001", "5e-324"},
		{"8000000000000001", "-5e-324"},
		{"7fefffffffffffff", "1.7976931348623157e+308"},
		{"ffefffffffffffff", "-1.7976931348623157e+308"},
		{"4340000000000000", "9007199254740992"},
		{"c340000000000000", "-9007199254740992"},
		{"4430000000000000", "295147905179352830000"},
		{"44b52d02c7e14af5", "9.999999999999997e+22"},
		{"44b52d02c7e14af6", "1e+23"},
		{"44b52d02c7e14af7", "1.0000000000000001e+23"},
		{"444b1ae4d6e2ef4e", "999999999999999700000"},
		{"444b1ae4d6e2ef4f", "999999999999999900000"},
		{"444b1ae4d6e2ef50", "1e+21"},
		{"3eb0c6f7a0b5ed8c", "9.999999999999997e-7"},
		{"3eb0c6f7a0b5ed8d", "0.000001"},
		{"41b3de4355555553", "333333333.3333332"},
		{"41b3de4355555554", "333333333.33333325"},
		{"41b3de4355555555", "333333333.3333333"},
		{"41b3de4355555556", "333333333.3333334"},
		{"41b3de4355555557", "333333333.33333343"},
		{"becbf647612f3696", "-0.0000033333333333333333"},
		{"43143ff3c1cb0959", "1424953923781206.2"},
	}
	for _, n := range numbers {
		bits, _ := strconv.ParseUint(n.bits, 16, 64)
		got, err := jcs.NumberToJSON(math.Float64frombits(bits))
		if err != nil || got != n.want {
			t.Errorf("NumberToJSON(%s) = %q, %v; want %q", n.bits, got, err, n.want)
		}
	}
	for _, bad := range []string{"7fffffffffffffff", "7ff0000000000000"} {
		bits, _ := strconv.ParseUint(bad, 16, 64)
		if _, err := jcs.NumberToJSON(math.Float64frombits(bits)); err == nil {
			t.Errorf("NumberToJSON(%s) succeeded, want an error (NaN or Infinity)", bad)
		}
	}
	in := `{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`
	want := `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`
	if got, err := jcs.Transform([]byte(in)); err != nil || string(got) != want {
		t.Errorf("Transform(§3.2.2 example) = %s, %v; want %s", got, err, want)
	}
	sorting := `{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`
	wantOrder := []string{`"\r"`, `"1"`, "\"\u0080\"", `"ö"`, `"€"`, `"😀"`, "\"\ufb33\""}
	got, err := jcs.Transform([]byte(sorting))
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	for _, k := range wantOrder {
		i := bytes.Index(got, []byte(k+":"))
		if i <= last {
			t.Errorf("Transform(§3.2.3 example) = %s: key %s out of order", got, k)
		}
		last = i
	}
}

// vectorLog builds a small log exercising every predicate and action.
// Ed25519 signatures are deterministic; ECDSA ones are not, so only the
// payloads of entries with an ECDSA signature are reproducible.
// Chain links (prev) are taken from files when given, so that a fresh
// build can be compared with the checked-in files.
func vectorLog(t testing.TB, files [][]byte) (names []string, leaves [][]byte) {
	reg, reg2 := edKey(t, "registrar"), edKey(t, "registrar 2")
	acme, acme2, acme3 := edKey(t, "acme"), ecKey(t, "acme 2"), edKey(t, "acme 3")
	add := func(name string, leaf []byte) {
		names, leaves = append(names, name), append(leaves, leaf)
	}
	prev := func(i int) string {
		if files != nil {
			return hexLeafHash(files[i])
		}
		return hexLeafHash(leaves[i])
	}
	add("registrar-genesis", sign(t, &Registrar{Action: "genesis", Origin: testOrigin, Key: reg.pub}, "", reg))
	add("registrar-rotate", sign(t, &Registrar{Action: "rotate", Origin: testOrigin, Seq: 1, Prev: prev(0), Key: reg2.pub}, "", reg, reg2))
	accord := &Accord{Origin: testOrigin, ID: "test-accord", Title: "Test accord", Text: "We test.",
		Principles: []Principle{{ID: "p1", Title: "One", Text: "First."}, {ID: "p2", Title: "Two", Text: "Second."}}}
	add("accord", sign(t, accord, "", reg2))
	digest, _ := PredicateDigest(accord)
	add("signatory-register", sign(t, &SignatoryEvent{Action: ActionRegister, Origin: testOrigin, Signatory: "acme",
		Name: "Acme Corp.", Website: "https://acme.example", Key: pk(acme)}, "", reg2, acme))
	add("signatory-add-key", sign(t, &SignatoryEvent{Action: ActionAddKey, Origin: testOrigin, Signatory: "acme",
		Seq: 1, Prev: prev(3), Key: pk(acme2)}, "", acme, acme2))
	add("pledge", sign(t, &Pledge{Origin: testOrigin, Signatory: "acme", Accord: "test-accord", Principle: "p1",
		Status: StatusCommitted, Statement: "We commit.", Evidence: []string{"https://acme.example/security"},
		Effective: "2026-01-02"}, digest, acme2))
	add("pledge-supersedes", sign(t, &Pledge{Origin: testOrigin, Signatory: "acme", Accord: "test-accord", Principle: "p1",
		Status: StatusProgress, Statement: "Half way.", Effective: "2026-02-03", Supersedes: u64(5)}, digest, acme))
	add("signatory-revoke-key", sign(t, &SignatoryEvent{Action: ActionRevoke, Origin: testOrigin, Signatory: "acme",
		Seq: 2, Prev: prev(4), KeyID: acme2.id(), Reason: ReasonCompromised, VoidFrom: u64(5)}, "", acme))
	add("signatory-recover", sign(t, &SignatoryEvent{Action: ActionRecover, Origin: testOrigin, Signatory: "acme",
		Seq: 3, Prev: prev(7), Key: pk(acme3)}, "", reg2, acme3))
	return names, leaves
}

func vectorPath(i int, name string) string {
	return filepath.Join("testdata", "vectors", fmt.Sprintf("%02d-%s.json", i, name))
}

// TestWriteVectors writes testdata/vectors with -update; otherwise it
// checks the files against a fresh build of the same log.
func TestWriteVectors(t *testing.T) {
	var files [][]byte
	if !*update {
		files = readVectors(t)
	}
	names, leaves := vectorLog(t, files)
	for i, name := range names {
		path := vectorPath(i, name)
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, leaves[i], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		file := files[i]
		env, err := ParseLeaf(file)
		if err != nil {
			t.Fatalf("ParseLeaf(%s) = %v", path, err)
		}
		fresh, _ := ParseLeaf(leaves[i])
		if !bytes.Equal(env.Payload, fresh.Payload) {
			t.Errorf("%s: payload differs from a fresh build:\n%s\n%s", path, env.Payload, fresh.Payload)
		}
		if !bytes.Contains(file, []byte(`"sig":"ME`)) && !bytes.Equal(file, leaves[i]) {
			t.Errorf("%s: Ed25519 leaf differs from a fresh build", path)
		}
	}
}

// TestVectors admits the checked-in vectors in order and checks the state
// they build.
func TestVectors(t *testing.T) {
	leaves := readVectors(t)
	r := NewRegistry(testOrigin)
	admitAll(t, r, leaves)
	latest := r.Latest("acme")
	if len(latest) != 1 || latest[0].Index != 6 || latest[0].Status != StatusProgress {
		t.Errorf("Latest(acme) = %+v, want index 6 progress (5 is void)", latest)
	}
	acme, _ := r.Signatory("acme")
	if len(acme.Keys) != 3 || acme.Keys[1].VoidFrom == nil || *acme.Keys[1].VoidFrom != 5 || acme.Seq != 3 {
		t.Errorf("Signatory(acme) = %+v", acme)
	}
	if acme.Head != hexLeafHash(leaves[8]) {
		t.Errorf("acme head = %s, want leaf hash of entry 8", acme.Head)
	}
}

func readVectors(t testing.TB) [][]byte {
	names, _ := vectorLog(t, nil)
	var files [][]byte
	for i, name := range names {
		b, err := os.ReadFile(vectorPath(i, name))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	return files
}
