package bundle

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	l := newTestLog(t)
	for _, b := range []*Bundle{l.bundle(36, testSize, 2, 2), l.bundle(0, 1, 0), l.bundle(idxNewPledge, testSize, 1, 2, idxAddKey)} {
		data := b.Marshal()
		got, err := Parse(data)
		if err != nil {
			t.Fatalf("Parse(Marshal()) = %v", err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Errorf("Parse(Marshal(b)) = %+v, want %+v", got, b)
		}
		if again := got.Marshal(); !bytes.Equal(again, data) {
			t.Errorf("Marshal(Parse(x)) = %s, want %s", again, data)
		}
		if _, err := Verify(got, l.policy(0)); err != nil {
			t.Errorf("Verify(Parse(Marshal())) = %v", err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	l := newTestLog(t)
	good := string(l.bundle(36, testSize, 1, 2).Marshal())
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q not in the bundle", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct {
		name  string
		data  string
		want  error
		field string
	}{
		{"media type", replace("bundle.v1+json", "bundle.v3+json"), ErrMediaType, "mediaType"},
		{"v1 members under the v2 media type", replace("bundle.v1+json", "bundle.v2+json"), ErrMalformed, "evidence"},
		{"no media type", replace(`"mediaType":"application/vnd.pledgelog.bundle.v1+json",`, ""), ErrMediaType, "mediaType"},
		{"unknown member", replace(`"entry":{`, `"entry":{"x":1,`), ErrMalformed, "entry.x"},
		{"unknown top member", replace(`{"mediaType"`, `{"extra":0,"mediaType"`), ErrMalformed, "extra"},
		{"repeated member", replace(`"entry":{"index":36,`, `"entry":{"index":36,"index":36,`), ErrMalformed, "entry.index"},
		{"repeated top member", replace(`"evidence":[`, `"checkpoint":"x","evidence":[`), ErrMalformed, "checkpoint"},
		{"case variant", replace(`"index":36`, `"Index":36`), ErrMalformed, "entry.Index"},
		{"missing member", replace(`"index":36,`, ``), ErrMalformed, "entry.index"},
		{"leading zero", replace(`"index":36`, `"index":036`), ErrMalformed, "entry"},
		{"exponent", replace(`"index":36`, `"index":3.6e1`), ErrMalformed, "entry.index"},
		{"negative", replace(`"index":36`, `"index":-36`), ErrMalformed, "entry.index"},
		{"string index", replace(`"index":36`, `"index":"36"`), ErrMalformed, "entry.index"},
		{"url-safe base64", replace(`"leaf":"eyJ`, `"leaf":"eyJ-`), ErrMalformed, "entry.leaf"},
		{"escaped base64", replace(`"leaf":"eyJ`, `"leaf":"\u0065yJ`), nil, ""},
		{"short hash", replace(`"proof":["`, `"proof":["AAAA","`), ErrMalformed, "entry.proof[0]"},
		{"bad checkpoint", replace(`"checkpoint":"`, `"checkpoint":"\r`), ErrMalformed, "checkpoint"},
		{"trailing data", good + "{}", ErrMalformed, "bundle"},
		{"not an object", "[]", ErrMalformed, "bundle"},
		{"too large", good + strings.Repeat(" ", MaxSize), ErrMalformed, "bundle"},
		{"white space", " " + replace(`,"checkpoint"`, ",\n  \"checkpoint\"") + "\n", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			if !errors.Is(err, tt.want) || err == nil && tt.want != nil {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("Parse error %q does not start with %q", err, tt.field)
			}
		})
	}
}
