package witness

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/pledgelog/pledgelog/verify"
)

// FuzzParseRequest checks that what parseRequest accepts is exactly the
// body it formats back from the parsed request: no other bytes are read
// as a valid request.
func FuzzParseRequest(f *testing.F) {
	cp := "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
	f.Add([]byte("old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\n" + cp))
	f.Add([]byte("old 0\n\n" + cp))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRequest(b)
		if err != nil {
			return
		}
		out := fmt.Appendf(nil, "old %d\n", r.old)
		for _, h := range r.proof {
			out = append(out, h.String()+"\n"...)
		}
		out = append(append(out, '\n'), r.signed...)
		if !bytes.Equal(out, b) {
			t.Errorf("parseRequest(%q) = %+v, which formats as %q", b, r, out)
		}
		if r.old > r.cp.Size || len(r.proof) > maxProofLines {
			t.Errorf("parseRequest(%q) accepted old %d > size %d or %d proof lines", b, r.old, r.cp.Size, len(r.proof))
		}
		if _, err := verify.ParseNote(r.signed); err != nil {
			t.Errorf("parseRequest(%q): the checkpoint does not parse: %v", b, err)
		}
	})
}
