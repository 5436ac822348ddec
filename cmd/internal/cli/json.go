package cli

import (
	"encoding/json"
	"io"
)

// PrintJSON writes v to w as JSON indented by two spaces, and a newline:
// what pledge and pledgelog print with --json. Like encoding/json's
// Marshal it escapes <, > and & in strings.
func PrintJSON(w io.Writer, v any) error { return printJSON(w, v, "  ") }

// PrintJSONLine writes v to w as JSON on one line, and a newline: what
// pledge-verify prints with --json, one result (or one monitor event) a
// line, for line-oriented tools.
func PrintJSONLine(w io.Writer, v any) error { return printJSON(w, v, "") }

func printJSON(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", indent)
	return enc.Encode(v)
}
