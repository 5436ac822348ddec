package attest

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// The fast path of the strict parse. Stored leaves and well-behaved
// submissions are already canonical, and for them the general path
// (encoding/json into a tree and into the structs, re-marshal, RFC 8785
// transform, compare) costs tens of microseconds per entry. The readers
// here decode the canonical bytes directly, in one pass, and accept only
// what the general path would accept with the same result: each reader
// checks RFC 8785 form (no whitespace, members in ascending order, the
// escapes RFC 8785 §3.2.2.2 prescribes, integers as ECMAScript prints
// them) and the schema's omitempty rules as it goes. Whenever it meets
// anything else — an escape it does not expect, a null, an empty optional
// member, a number beyond 2^53 — it gives up, and the caller runs the
// general path, which decides and explains. So a fast-path bug can only
// cost speed, never accept a payload the general path refuses, as long as
// every "true" here is right: FuzzCanonicalFastPath checks exactly that
// against the general path and the jcs library.

// scanLeaf decodes data if it is exactly a canonical leaf, as
// [Envelope.Leaf] writes it; it reports false for anything else.
func scanLeaf(data []byte) (*Envelope, bool) {
	r := &canonReader{b: data}
	if !r.lit(`{"payload":"`) {
		return nil, false
	}
	payload, ok := r.base64()
	if !ok || !r.lit(`","payloadType":"`+PayloadType+`","signatures":[`) {
		return nil, false
	}
	env := &Envelope{Payload: payload, Signatures: make([]Signature, 0, 1)}
	for {
		if len(env.Signatures) == 2 || !r.lit(`{"keyid":"`) || r.i+64 > len(data) {
			return nil, false
		}
		id := string(data[r.i : r.i+64])
		r.i += 64
		if !isHex64(id) || len(env.Signatures) == 1 && id <= env.Signatures[0].KeyID || !r.lit(`","sig":"`) {
			return nil, false
		}
		sig, ok := r.base64()
		if !ok || !r.lit(`"}`) {
			return nil, false
		}
		env.Signatures = append(env.Signatures, Signature{KeyID: id, Sig: sig})
		if r.lit(`]}`) {
			return env, r.i == len(data)
		}
		if !r.lit(",") {
			return nil, false
		}
	}
}

// scanStatement decodes payload if it is the canonical JSON of a
// statement the general path would decode to the same value; it does not
// validate the statement.
func scanStatement(payload []byte) (*Statement, bool) {
	r := &canonReader{b: payload}
	st := &Statement{}
	var predicate []byte
	ok := r.members(statementFields, func(i int) bool {
		switch i {
		case 0:
			return r.str(&st.Type)
		case 1:
			start := r.i
			if !r.skip() {
				return false
			}
			predicate = payload[start:r.i]
			return true
		case 2:
			return r.str(&st.PredicateType)
		default:
			return r.array(func() bool {
				var s Subject
				st.Subject = append(st.Subject, s)
				return r.subject(&st.Subject[len(st.Subject)-1])
			})
		}
	})
	if !ok || r.i != len(payload) {
		return nil, false
	}
	st.Predicate = newPredicate(st.PredicateType)
	if st.Predicate == nil {
		return nil, false
	}
	pr := &canonReader{b: predicate}
	switch p := st.Predicate.(type) {
	case *Registrar:
		ok = pr.registrar(p)
	case *Accord:
		ok = pr.accord(p)
	case *SignatoryEvent:
		ok = pr.signatoryEvent(p)
	case *Pledge:
		ok = pr.pledge(p)
	}
	return st, ok && pr.i == len(predicate)
}

// fields lists the member names of an object in RFC 8785 order (all
// ASCII, so bytewise order is UTF-16 order), with bit i of required set
// when names[i] has no omitempty. TestCanonicalFields checks both against
// the structs' JSON tags.
type fields struct {
	names    []string
	required uint
}

var (
	statementFields = fields{[]string{"_type", "predicate", "predicateType", "subject"}, 0b1111}
	subjectFields   = fields{[]string{"digest", "name"}, 0b11}
	digestFields    = fields{[]string{"sha256"}, 0b1}
	keyFields       = fields{[]string{"spki", "type"}, 0b11}
	registrarFields = fields{[]string{"action", "key", "notice", "origin", "prev", "seq"}, 0b101011}
	accordFields    = fields{[]string{"announced", "id", "notice", "origin", "principles", "source", "text", "textSha256", "textUri", "title"}, 0b1000011010}
	principleFields = fields{[]string{"id", "text", "title"}, 0b111}
	signatoryFields = fields{[]string{"action", "key", "keyid", "name", "notice", "origin", "prev", "reason", "seq", "signatory", "voidFrom", "website"}, 0b001100100001}
	pledgeFields    = fields{[]string{"accord", "effective", "evidence", "notice", "origin", "principle", "signatory", "statement", "status", "supersedes"}, 0b0111110011}
)

func (r *canonReader) subject(s *Subject) bool {
	return r.members(subjectFields, func(i int) bool {
		if i == 0 {
			return r.members(digestFields, func(int) bool { return r.str(&s.Digest.SHA256) })
		}
		return r.str(&s.Name)
	})
}

func (r *canonReader) publicKey(k *PublicKey) bool {
	return r.members(keyFields, func(i int) bool {
		if i == 0 {
			var ok bool
			k.SPKI, ok = r.quotedBase64()
			return ok
		}
		var t string
		ok := r.str(&t)
		k.Type = KeyType(t)
		return ok
	})
}

func (r *canonReader) registrar(p *Registrar) bool {
	return r.members(registrarFields, func(i int) bool {
		switch i {
		case 0:
			return r.str(&p.Action)
		case 1:
			return r.publicKey(&p.Key)
		case 2:
			return r.optStr(&p.Notice)
		case 3:
			return r.str(&p.Origin)
		case 4:
			return r.optStr(&p.Prev)
		default:
			return r.uint(&p.Seq)
		}
	})
}

func (r *canonReader) accord(p *Accord) bool {
	return r.members(accordFields, func(i int) bool {
		switch i {
		case 0:
			return r.optStr(&p.Announced)
		case 1:
			return r.str(&p.ID)
		case 2:
			return r.optStr(&p.Notice)
		case 3:
			return r.str(&p.Origin)
		case 4:
			return r.array(func() bool {
				p.Principles = append(p.Principles, Principle{})
				pr := &p.Principles[len(p.Principles)-1]
				return r.members(principleFields, func(i int) bool {
					switch i {
					case 0:
						return r.str(&pr.ID)
					case 1:
						return r.str(&pr.Text)
					default:
						return r.str(&pr.Title)
					}
				})
			})
		case 5:
			return r.optStr(&p.Source)
		case 6:
			return r.optStr(&p.Text)
		case 7:
			return r.optStr(&p.TextSHA256)
		case 8:
			return r.optStr(&p.TextURI)
		default:
			return r.str(&p.Title)
		}
	})
}

func (r *canonReader) signatoryEvent(p *SignatoryEvent) bool {
	return r.members(signatoryFields, func(i int) bool {
		switch i {
		case 0:
			return r.str(&p.Action)
		case 1:
			p.Key = new(PublicKey)
			return r.publicKey(p.Key)
		case 2:
			return r.optStr(&p.KeyID)
		case 3:
			return r.optStr(&p.Name)
		case 4:
			return r.optStr(&p.Notice)
		case 5:
			return r.str(&p.Origin)
		case 6:
			return r.optStr(&p.Prev)
		case 7:
			return r.optStr(&p.Reason)
		case 8:
			return r.uint(&p.Seq)
		case 9:
			return r.str(&p.Signatory)
		case 10:
			p.VoidFrom = new(uint64)
			return r.uint(p.VoidFrom)
		default:
			return r.optStr(&p.Website)
		}
	})
}

func (r *canonReader) pledge(p *Pledge) bool {
	return r.members(pledgeFields, func(i int) bool {
		switch i {
		case 0:
			return r.str(&p.Accord)
		case 1:
			return r.str(&p.Effective)
		case 2:
			return r.array(func() bool {
				var s string
				p.Evidence = append(p.Evidence, s)
				return r.str(&p.Evidence[len(p.Evidence)-1])
			})
		case 3:
			return r.optStr(&p.Notice)
		case 4:
			return r.str(&p.Origin)
		case 5:
			return r.str(&p.Principle)
		case 6:
			return r.str(&p.Signatory)
		case 7:
			return r.str(&p.Statement)
		case 8:
			return r.str(&p.Status)
		default:
			p.Supersedes = new(uint64)
			return r.uint(p.Supersedes)
		}
	})
}

// canonReader reads RFC 8785 JSON of the values the schema uses: objects,
// non-empty arrays, strings and integers up to 2^53. Its methods report
// false for anything else.
type canonReader struct {
	b     []byte
	i     int
	depth int // of the values skip is inside; at most MaxDepth
}

// lit consumes s if the input continues with it.
func (r *canonReader) lit(s string) bool {
	if !bytes.HasPrefix(r.b[r.i:], []byte(s)) {
		return false
	}
	r.i += len(s)
	return true
}

// members reads an object whose member names are among f's, in order,
// each at most once, the required ones present, and calls member with
// each one's position in f.names.
func (r *canonReader) members(f fields, member func(i int) bool) bool {
	names, required := f.names, f.required
	if !r.lit("{") {
		return false
	}
	if r.lit("}") {
		return required == 0
	}
	var seen uint
	next := 0 // names before next are behind us: order and uniqueness in one check
	for {
		if !r.lit(`"`) {
			return false
		}
		end := bytes.IndexByte(r.b[r.i:], '"')
		if end < 0 {
			return false
		}
		name := r.b[r.i : r.i+end]
		r.i += end + 1
		i := next
		for i < len(names) && names[i] != string(name) {
			i++
		}
		if i == len(names) || !r.lit(":") || !member(i) {
			return false
		}
		seen |= 1 << i
		next = i + 1
		if r.lit("}") {
			return seen&required == required
		}
		if !r.lit(",") {
			return false
		}
	}
}

// array reads a non-empty array, calling elem for each element.
func (r *canonReader) array(elem func() bool) bool {
	if !r.lit("[") || r.lit("]") {
		return false
	}
	for {
		if !elem() {
			return false
		}
		if r.lit("]") {
			return true
		}
		if !r.lit(",") {
			return false
		}
	}
}

// skip reads any value the schema uses, checking its form. Values nested
// deeper than MaxDepth are left to the general path, which refuses them.
func (r *canonReader) skip() bool {
	if r.i == len(r.b) || r.depth == MaxDepth {
		return false
	}
	r.depth++
	defer func() { r.depth-- }()
	switch r.b[r.i] {
	case '{':
		if !r.lit("{") {
			return false
		}
		if r.lit("}") {
			return true
		}
		prev := ""
		for first := true; ; first = false {
			var name string
			if !r.str(&name) || !first && name <= prev {
				return false
			}
			// ASCII names compare bytewise as RFC 8785 orders them (by
			// UTF-16 code units); others are left to the general path.
			for _, c := range []byte(name) {
				if c >= utf8.RuneSelf {
					return false
				}
			}
			prev = name
			if !r.lit(":") || !r.skip() {
				return false
			}
			if r.lit("}") {
				return true
			}
			if !r.lit(",") {
				return false
			}
		}
	case '[':
		return r.array(r.skip)
	case '"':
		var s string
		return r.str(&s)
	default:
		var u uint64
		return r.uint(&u)
	}
}

// optStr reads a string that omitempty would have left out if empty.
func (r *canonReader) optStr(dst *string) bool { return r.str(dst) && *dst != "" }

// str reads a string in RFC 8785 form: valid UTF-8, with only '"', '\'
// and the control characters escaped, the latter as \b \f \n \r \t or
// \u00xx (lowercase hex).
func (r *canonReader) str(dst *string) bool {
	if !r.lit(`"`) {
		return false
	}
	start := r.i
	for r.i < len(r.b) {
		switch c := r.b[r.i]; {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			*dst = string(s)
			return utf8.Valid(s)
		case c == '\\':
			return r.escaped(dst, start)
		case c < 0x20:
			return false
		}
		r.i++
	}
	return false
}

// escaped finishes a string that has escapes, from its first one.
func (r *canonReader) escaped(dst *string, start int) bool {
	out := append([]byte(nil), r.b[start:r.i]...)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			if !utf8.Valid(out) {
				return false
			}
			*dst = string(out)
			return true
		case c < 0x20:
			return false
		case c != '\\':
			out = append(out, c)
			r.i++
			continue
		}
		if r.i+1 >= len(r.b) {
			return false
		}
		e := r.b[r.i+1]
		r.i += 2
		switch e {
		case '"', '\\':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			// Only control characters without a short form.
			if !r.lit("00") || r.i+2 > len(r.b) {
				return false
			}
			v, err := strconv.ParseUint(string(r.b[r.i:r.i+2]), 16, 8)
			if err != nil || v >= 0x20 || r.b[r.i] > '1' || isUpperHex(r.b[r.i+1]) {
				return false
			}
			switch v {
			case '\b', '\f', '\n', '\r', '\t':
				return false
			}
			out = append(out, byte(v))
			r.i += 2
		default:
			return false
		}
	}
	return false
}

func isUpperHex(c byte) bool { return 'A' <= c && c <= 'F' }

// uint reads an integer as ECMAScript prints it: 0, or digits without a
// leading zero, at most 2^53 so that the double RFC 8785 reads it as is
// the same integer.
func (r *canonReader) uint(dst *uint64) bool {
	start := r.i
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
	}
	d := r.b[start:r.i]
	if len(d) == 0 || len(d) > 16 || d[0] == '0' && len(d) > 1 {
		return false
	}
	v, err := strconv.ParseUint(string(d), 10, 64)
	*dst = v
	return err == nil && v <= 1<<53
}

// quotedBase64 reads a string of non-empty standard base64 in the form
// encoding/json writes it.
func (r *canonReader) quotedBase64() ([]byte, bool) {
	if !r.lit(`"`) {
		return nil, false
	}
	b, ok := r.base64()
	return b, ok && r.lit(`"`)
}

// base64 reads non-empty standard base64 up to the next '"', exactly as
// the encoder writes it: strict decoding rejects non-zero trailing bits,
// and the length check rejects the line breaks the decoder skips.
func (r *canonReader) base64() ([]byte, bool) {
	end := bytes.IndexByte(r.b[r.i:], '"')
	if end <= 0 {
		return nil, false
	}
	s := r.b[r.i : r.i+end]
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Strict().Decode(out, s)
	if err != nil || n == 0 || base64.StdEncoding.EncodedLen(n) != len(s) {
		return nil, false
	}
	r.i += end
	return out[:n], true
}
