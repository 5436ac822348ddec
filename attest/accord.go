package attest

import (
	_ "embed"
	"encoding/json"
)

//go:embed tech-accord-2018.json
var techAccordJSON []byte

// Company is a founding signatory named in the embedded accord data.
type Company struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TechAccord returns the 2018 Cybersecurity Tech Accord (embedded data)
// as an accord predicate for origin, and its 34 founding signatories.
func TechAccord(origin string) (*Accord, []Company) {
	var f struct {
		Source      string      `json:"_source"`
		ID          string      `json:"id"`
		Title       string      `json:"title"`
		Announced   string      `json:"announced"`
		Summary     string      `json:"summary"`
		Principles  []Principle `json:"principles"`
		Signatories []Company   `json:"signatories"`
	}
	if err := json.Unmarshal(techAccordJSON, &f); err != nil {
		panic("attest: embedded accord: " + err.Error()) // covered by tests
	}
	return &Accord{Origin: origin, ID: f.ID, Title: f.Title, Text: f.Summary, Announced: f.Announced,
		Source: f.Source, Principles: f.Principles}, f.Signatories
}
