package attest

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestFormatsDoc checks that docs/formats.md's JSON Schemas are valid JSON
// and list exactly the members of the Go types.
func TestFormatsDoc(t *testing.T) {
	doc, err := os.ReadFile("../docs/formats.md")
	if err != nil {
		t.Skipf("docs/formats.md: %v", err)
	}
	types := map[string]any{
		RegistrarType: Registrar{}, AccordType: Accord{}, SignatoryType: SignatoryEvent{}, PledgeType: Pledge{},
		"https://pledgelog.dev/schema/statement.json": Statement{},
	}
	seen := 0
	for i, block := range strings.Split(string(doc), "```json\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		var schema struct {
			ID         string                     `json:"$id"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal([]byte(block), &schema); err != nil {
			t.Fatalf("schema block %d: %v", i, err)
		}
		v, ok := types[schema.ID]
		if !ok {
			continue
		}
		seen++
		var got, want []string
		for k := range schema.Properties {
			got = append(got, k)
		}
		rt := reflect.TypeOf(v)
		for j := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(j).Tag.Get("json"), ",")
			want = append(want, name)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s lists %v, Go type has %v", schema.ID, got, want)
		}
	}
	if seen != len(types) {
		t.Errorf("found %d of %d schemas", seen, len(types))
	}
}
