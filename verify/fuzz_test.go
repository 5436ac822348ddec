package verify_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"filippo.io/torchwood"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/pledgelog/pledgelog/verify"
)

// The fuzz targets check round trips, and compare with x/mod, torchwood and
// transparency-dev/formats. Where verify is stricter than a reference, the
// difference must be one of the documented extra rules.

func canonicalBase64(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	return err == nil && base64.StdEncoding.EncodeToString(b) == s
}

func FuzzParseNote(f *testing.F) {
	for _, n := range append(validNotes, sofaNote, "a\n\n— k AAAAAAB=\n", "a\n\n— k AAAA\n", "x\n\n\n— k AAAAAAA=\n") {
		f.Add([]byte(n))
	}
	xv, _ := note.NewVerifier(neumannVkey)
	v := mustVerifier(f, neumannVkey)
	f.Fuzz(func(t *testing.T, msg []byte) {
		n, err := verify.ParseNote(msg)
		_, xerr := note.Open(msg, note.VerifierList())
		var unverified *note.UnverifiedNoteError
		xmodOK := errors.As(xerr, &unverified)
		if err == nil {
			if got := n.Bytes(); !bytes.Equal(got, msg) {
				t.Fatalf("ParseNote(%q).Bytes() = %q", msg, got)
			}
			if !xmodOK || unverified.Note.Text != string(n.Text) || len(unverified.Note.UnverifiedSigs) != len(distinctLines(n)) {
				t.Fatalf("ParseNote(%q) ok, x/mod: %v", msg, xerr)
			}
		} else if xmodOK && !hasNonCanonicalSig(unverified.Note) {
			t.Fatalf("ParseNote(%q) = %v, but x/mod parses it", msg, err)
		}

		// With a known key, both must agree but where verify is stricter:
		// canonical base64, and every signature by a known key verified
		// (x/mod checks only the first of a key's signatures).
		got, err := verify.Open(msg, v)
		xn, xerr := note.Open(msg, note.VerifierList(xv))
		switch {
		case err == nil && (xerr != nil || len(xn.Sigs) != len(got.Sigs)):
			t.Fatalf("Open(%q) = %d signatures, x/mod %v", msg, len(got.Sigs), xerr)
		case err != nil && xerr == nil && !hasNonCanonicalSig(xn) && !(errors.As(err, new(*verify.SignatureError)) && n != nil && countKey(n, v) > 1):
			t.Fatalf("Open(%q) = %v, but x/mod opens it", msg, err)
		}
	})
}

// countKey returns the number of signatures in n by the key of v.
func countKey(n *verify.Note, v verify.Verifier) int {
	c := 0
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.KeyID == v.KeyID() {
			c++
		}
	}
	return c
}

// distinctLines returns the distinct signature lines of n, as x/mod keeps
// them.
func distinctLines(n *verify.Note) map[string]bool {
	lines := make(map[string]bool)
	for _, s := range n.Sigs {
		lines[string((&verify.Note{Sigs: []verify.Signature{s}}).Bytes())] = true
	}
	return lines
}

func hasNonCanonicalSig(n *note.Note) bool {
	for _, s := range append(n.Sigs, n.UnverifiedSigs...) {
		if !canonicalBase64(s.Base64) {
			return true
		}
	}
	return false
}

func FuzzParseCheckpoint(f *testing.F) {
	for _, c := range validCheckpoints {
		f.Add(c)
	}
	for _, c := range []string{"\n1\n" + root64 + "\n", "o+\n1\n" + root64 + "\n", "o\n01\n" + root64 + "\n",
		"o\r\n1\n" + root64 + "\n", "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n"} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := verify.ParseCheckpoint([]byte(text))
		tc, terr := torchwood.ParseCheckpoint(text)
		if err == nil {
			if got := c.Text(); string(got) != text {
				t.Fatalf("ParseCheckpoint(%q).Text() = %q", text, got)
			}
			if breaksExtraCheckpointRule(text, c.Origin) {
				t.Fatalf("ParseCheckpoint(%q) accepts a bad origin, character or root", text)
			}
			if c.Size <= math.MaxInt64 && (terr != nil || tc.Origin != c.Origin || uint64(tc.N) != c.Size ||
				verify.Hash(tc.Hash) != c.Root || tc.Extension != extensionText(c.Extensions)) {
				t.Fatalf("ParseCheckpoint(%q) = %+v; torchwood %+v, %v", text, c, tc, terr)
			}
			return
		}
		if terr == nil && !breaksExtraCheckpointRule(text, tc.Origin) {
			t.Fatalf("ParseCheckpoint(%q) = %v, but torchwood parses it", text, err)
		}
	})
}

// breaksExtraCheckpointRule reports whether text breaks a rule that verify
// checks and torchwood does not: a valid origin, UTF-8 without control
// characters, a canonical base64 root.
func breaksExtraCheckpointRule(text, origin string) bool {
	if origin == "" || strings.ContainsRune(origin, '+') || strings.IndexFunc(origin, unicode.IsSpace) >= 0 {
		return true
	}
	if !utf8.ValidString(text) || strings.IndexFunc(text, func(r rune) bool { return r < 0x20 && r != '\n' }) >= 0 {
		return true
	}
	return !canonicalBase64(strings.Split(text, "\n")[2])
}

func FuzzParseTilePath(f *testing.F) {
	for _, tc := range tilePaths {
		f.Add(tc.path)
	}
	for _, p := range badTilePaths {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tile, err := verify.ParseTilePath(path)
		tw, twErr := torchwood.ParseTilePath(path)
		if err == nil {
			if got := tile.Path(); got != path {
				t.Fatalf("ParseTilePath(%q).Path() = %q", path, got)
			}
			if tile.Level < verify.EntriesLevel || tile.Level > verify.MaxTileLevel || tile.Width < 1 || tile.Width > verify.TileWidth {
				t.Fatalf("ParseTilePath(%q) = invalid %+v", path, tile)
			}
			if tile.N <= math.MaxInt64 && (twErr != nil || fromTlog(tw) != tile) {
				t.Fatalf("ParseTilePath(%q) = %+v; torchwood %+v, %v", path, tile, tw, twErr)
			}
			return
		}
		// torchwood also takes levels above 63 and sumdb's "tile/data/N"
		// for "tile/entries/N".
		if twErr == nil && tw.L <= verify.MaxTileLevel && !strings.HasPrefix(path, "tile/data/") {
			t.Fatalf("ParseTilePath(%q) = %v, but torchwood parses it as %+v", path, err, tw)
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	f.Add(tesseraBundle)
	f.Add([]byte{})
	f.Add([]byte{0, 0})
	f.Add(bytes.Repeat([]byte{0, 1, 'x'}, 257))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := verify.ParseBundle(data)
		tw, twErr := readTorchwood(data)
		if err == nil {
			if len(entries) == 0 || len(entries) > verify.TileWidth || twErr != nil || len(tw) != len(entries) {
				t.Fatalf("ParseBundle(%x) = %d entries; torchwood %d, %v", data, len(entries), len(tw), twErr)
			}
			var again []byte
			for i, e := range entries {
				if !bytes.Equal(e, tw[i]) {
					t.Fatalf("ParseBundle(%x) entry %d = %x, torchwood %x", data, i, e, tw[i])
				}
				again, _ = verify.AppendBundleEntry(again, e)
			}
			if !bytes.Equal(again, data) {
				t.Fatalf("re-encoding ParseBundle(%x) = %x", data, again)
			}
			return
		}
		if twErr == nil && len(data) > 0 && len(tw) <= verify.TileWidth {
			t.Fatalf("ParseBundle(%x) = %v, but torchwood reads %d entries", data, err, len(tw))
		}
	})
}

func FuzzNewVerifier(f *testing.F) {
	neumann := mustParse(f, []byte(neumannNote))
	sofa := mustParse(f, []byte(sofaNote))
	f.Add(neumannVkey, []byte(neumannText), neumann.Sigs[0].Sig)
	f.Add(c2spVkey, []byte(neumannText), neumann.Sigs[0].Sig)
	f.Add(sofaWitVkey, []byte(sofaText), sofa.Sigs[1].Sig)
	f.Add(sofaLogVkey, []byte(sofaText), sofa.Sigs[0].Sig)
	f.Add("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", []byte{}, []byte{})
	f.Add("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX", []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, vkey string, msg, sig []byte) {
		v, err := verify.NewVerifier(vkey)
		xv, xerr := note.NewVerifier(vkey)
		fv, ferr := fnote.NewVerifierForCosignatureV1(vkey)
		typ := vkeyType(vkey)
		if err != nil {
			if xerr == nil && !looseVkey(vkey) {
				t.Fatalf("NewVerifier(%q) = %v, but x/mod accepts it", vkey, err)
			}
			return
		}
		if got := fmt.Sprint(v); got != vkey {
			t.Fatalf("NewVerifier(%q).String() = %q", vkey, got)
		}
		var ref interface {
			Name() string
			KeyHash() uint32
			Verify(msg, sig []byte) bool
		}
		switch typ {
		case 0x01:
			ref, err = xv, xerr
		case 0x04:
			ref, err = fv, ferr
			if _, perr := verify.ParseCheckpoint(msg); perr != nil {
				msg = nil // formats does not require a checkpoint: compare on none
			}
		default:
			t.Fatalf("NewVerifier(%q) accepts type %#x", vkey, typ)
		}
		if err != nil || ref.Name() != v.Name() || ref.KeyHash() != v.KeyID() {
			t.Fatalf("NewVerifier(%q): reference %v", vkey, err)
		}
		if msg != nil && v.Verify(msg, sig) != ref.Verify(msg, sig) {
			t.Fatalf("NewVerifier(%q).Verify(%q, %x) = %v, reference disagrees", vkey, msg, sig, v.Verify(msg, sig))
		}
	})
}

// vkeyType returns the type byte of a vkey, or 0.
func vkeyType(vkey string) byte {
	f := strings.SplitN(vkey, "+", 3)
	if len(f) < 3 {
		return 0
	}
	b, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil || len(b) == 0 {
		return 0
	}
	return b[0]
}

// looseVkey reports whether vkey has an upper-case key ID or a
// non-canonical base64 key, which x/mod accepts and verify does not.
func looseVkey(vkey string) bool {
	f := strings.SplitN(vkey, "+", 3)
	return len(f) == 3 && (strings.ToLower(f[1]) != f[1] || !canonicalBase64(f[2]))
}
