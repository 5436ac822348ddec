package cli

import (
	"bytes"
	"testing"
)

// TestPrintJSON pins the two JSON forms the commands print: indented by
// two spaces (pledge, pledgelog) and one line (pledge-verify), both ending
// in a newline, with <, > and & escaped as encoding/json.Marshal does.
func TestPrintJSON(t *testing.T) {
	v := map[string]any{"b": []int{1, 2}, "a": "<x&y>"}
	for _, tc := range []struct {
		print func(*bytes.Buffer) error
		want  string
	}{
		{func(b *bytes.Buffer) error { return PrintJSON(b, v) }, "{\n  \"a\": \"\\u003cx\\u0026y\\u003e\",\n  \"b\": [\n    1,\n    2\n  ]\n}\n"},
		{func(b *bytes.Buffer) error { return PrintJSONLine(b, v) }, "{\"a\":\"\\u003cx\\u0026y\\u003e\",\"b\":[1,2]}\n"},
	} {
		var b bytes.Buffer
		if err := tc.print(&b); err != nil || b.String() != tc.want {
			t.Errorf("printed %q (%v), want %q", b.String(), err, tc.want)
		}
	}
	if err := PrintJSON(new(bytes.Buffer), func() {}); err == nil {
		t.Error("a func printed as JSON")
	}
}
