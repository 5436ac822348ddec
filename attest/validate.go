package attest

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Field limits.
const (
	maxSafeInt    = 1<<53 - 1 // integers must survive RFC 8785's doubles
	maxShortText  = 200
	maxLongText   = 8000
	maxPrinciples = 64
	maxEvidence   = 16
)

func (p *Registrar) validate(ptr string) error {
	if p.Action != "genesis" && p.Action != "rotate" {
		return malformed(ptr+"/action", "wrong-value", "want genesis or rotate")
	}
	if err := checkOrigin(ptr+"/origin", p.Origin); err != nil {
		return err
	}
	if err := checkChain(ptr, p.Seq, p.Prev); err != nil {
		return err
	}
	if (p.Action == "genesis") != (p.Seq == 0) {
		return malformed(ptr+"/seq", "wrong-value", "genesis and only genesis has seq 0")
	}
	if _, err := p.Key.parsed(); err != nil {
		return malformed(ptr+"/key", "bad-key", "%v", err)
	}
	return checkText(ptr+"/notice", p.Notice, 0, maxShortText)
}

func (p *Accord) validate(ptr string) error {
	for _, c := range []error{
		checkOrigin(ptr+"/origin", p.Origin),
		checkSlug(ptr+"/id", p.ID),
		checkText(ptr+"/title", p.Title, 1, maxShortText),
		checkText(ptr+"/text", p.Text, 0, maxLongText),
		checkText(ptr+"/source", p.Source, 0, maxShortText*4),
		checkText(ptr+"/notice", p.Notice, 0, maxShortText),
		checkOptional(ptr+"/announced", p.Announced, checkDate),
		checkOptional(ptr+"/textUri", p.TextURI, checkURI),
		checkOptional(ptr+"/textSha256", p.TextSHA256, checkHex64),
	} {
		if c != nil {
			return c
		}
	}
	if p.Text == "" && (p.TextSHA256 == "" || p.TextURI == "") {
		return malformed(ptr+"/text", "missing-field", "want text, or textSha256 and textUri")
	}
	return checkPrinciples(ptr+"/principles", p.Principles)
}

func checkPrinciples(ptr string, ps []Principle) error {
	if len(ps) == 0 || len(ps) > maxPrinciples {
		return malformed(ptr, "wrong-count", "want 1 to %d principles", maxPrinciples)
	}
	seen := map[string]bool{}
	for i, pr := range ps {
		p := ptr + "/" + itoa(i)
		if seen[pr.ID] {
			return malformed(p+"/id", "duplicate-id", "%q", pr.ID)
		}
		seen[pr.ID] = true
		for _, c := range []error{checkSlug(p+"/id", pr.ID),
			checkText(p+"/title", pr.Title, 1, maxShortText), checkText(p+"/text", pr.Text, 1, maxLongText)} {
			if c != nil {
				return c
			}
		}
	}
	return nil
}

func (p *SignatoryEvent) validate(ptr string) error {
	for _, c := range []error{
		checkOrigin(ptr+"/origin", p.Origin),
		checkSlug(ptr+"/signatory", p.Signatory),
		checkChain(ptr, p.Seq, p.Prev),
		checkText(ptr+"/notice", p.Notice, 0, maxShortText),
	} {
		if c != nil {
			return c
		}
	}
	return p.validateAction(ptr)
}

// validateAction checks which optional fields each action has.
func (p *SignatoryEvent) validateAction(ptr string) error {
	isReg, isRevoke := p.Action == ActionRegister, p.Action == ActionRevoke
	switch {
	case !isReg && !isRevoke && p.Action != ActionAddKey && p.Action != ActionRecover:
		return malformed(ptr+"/action", "wrong-value", "want register, add-key, revoke-key or recover")
	case isReg != (p.Seq == 0):
		return malformed(ptr+"/seq", "wrong-value", "register and only register has seq 0")
	case isReg != (p.Name != ""):
		return malformed(ptr+"/name", "wrong-field", "name is required for and only for register")
	case p.Website != "" && !isReg:
		return malformed(ptr+"/website", "wrong-field", "website is only for register")
	case isRevoke == (p.Key != nil):
		return malformed(ptr+"/key", "wrong-field", "key is required except for revoke-key")
	case isRevoke != (p.KeyID != ""):
		return malformed(ptr+"/keyid", "wrong-field", "keyid is required for and only for revoke-key")
	case isRevoke != (p.Reason != ""):
		return malformed(ptr+"/reason", "wrong-field", "reason is required for and only for revoke-key")
	case isRevoke && p.Reason != ReasonSuperseded && p.Reason != ReasonCompromised:
		return malformed(ptr+"/reason", "wrong-value", "want superseded or compromised")
	case (p.Reason == ReasonCompromised) != (p.VoidFrom != nil):
		return malformed(ptr+"/voidFrom", "wrong-field", "voidFrom is required for and only for compromised")
	case p.VoidFrom != nil && *p.VoidFrom > maxSafeInt:
		return malformed(ptr+"/voidFrom", "wrong-value", "too large")
	}
	return p.validateFields(ptr)
}

func (p *SignatoryEvent) validateFields(ptr string) error {
	if p.Key != nil {
		if _, err := p.Key.parsed(); err != nil {
			return malformed(ptr+"/key", "bad-key", "%v", err)
		}
	}
	if p.KeyID != "" {
		if err := checkHex64(ptr+"/keyid", p.KeyID); err != nil {
			return err
		}
	}
	if err := checkOptional(ptr+"/website", p.Website, checkURI); err != nil {
		return err
	}
	return checkText(ptr+"/name", p.Name, 0, maxShortText)
}

// statuses lists the pledge statuses in their documented order.
var statuses = []string{StatusCommitted, StatusReaffirmed, StatusProgress, StatusWithdrawn}

func validStatus(s string) bool {
	for _, v := range statuses {
		if s == v {
			return true
		}
	}
	return false
}

func (p *Pledge) validate(ptr string) error {
	for _, c := range []error{
		checkOrigin(ptr+"/origin", p.Origin),
		checkSlug(ptr+"/signatory", p.Signatory),
		checkSlug(ptr+"/accord", p.Accord),
		checkSlug(ptr+"/principle", p.Principle),
		checkText(ptr+"/statement", p.Statement, 1, maxLongText),
		checkText(ptr+"/notice", p.Notice, 0, maxShortText),
		checkDate(ptr+"/effective", p.Effective),
	} {
		if c != nil {
			return c
		}
	}
	if !validStatus(p.Status) {
		return malformed(ptr+"/status", "wrong-value", "want committed, reaffirmed, progress or withdrawn")
	}
	if p.Supersedes != nil && *p.Supersedes > maxSafeInt {
		return malformed(ptr+"/supersedes", "wrong-value", "too large")
	}
	if len(p.Evidence) > maxEvidence {
		return malformed(ptr+"/evidence", "wrong-count", "at most %d links", maxEvidence)
	}
	for i, e := range p.Evidence {
		if err := checkURI(ptr+"/evidence/"+itoa(i), e); err != nil {
			return err
		}
	}
	return nil
}

func checkChain(ptr string, seq uint64, prev string) error {
	if seq > maxSafeInt {
		return malformed(ptr+"/seq", "wrong-value", "too large")
	}
	if seq == 0 && prev != "" {
		return malformed(ptr+"/prev", "wrong-field", "the first event has no prev")
	}
	if seq > 0 {
		return checkHex64(ptr+"/prev", prev)
	}
	return nil
}

func checkOptional(ptr, s string, check func(string, string) error) error {
	if s == "" {
		return nil
	}
	return check(ptr, s)
}

// checkSlug accepts 1–64 of [a-z0-9-], not starting or ending with '-',
// and not the reserved RegistrarID.
func checkSlug(ptr, s string) error {
	ok := len(s) >= 1 && len(s) <= 64 && s[0] != '-' && s[len(s)-1] != '-' && s != RegistrarID
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	}
	if !ok {
		return malformed(ptr, "wrong-value", "want 1-64 of [a-z0-9-], not %q", RegistrarID)
	}
	return nil
}

// checkOrigin accepts a log origin: printable ASCII without spaces, no
// scheme, no trailing slash.
func checkOrigin(ptr, s string) error {
	ok := len(s) > 0 && len(s) <= 255 && !strings.Contains(s, "://") && !strings.HasSuffix(s, "/")
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] > ' ' && s[i] < 0x7f && s[i] != '+'
	}
	if !ok {
		return malformed(ptr, "wrong-value", "not a log origin")
	}
	return nil
}

func checkText(ptr, s string, minLen, maxLen int) error {
	if len(s) < minLen || len(s) > maxLen || !utf8.ValidString(s) {
		return malformed(ptr, "wrong-length", "want %d to %d bytes of UTF-8", minLen, maxLen)
	}
	return nil
}

func checkDate(ptr, s string) error {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return malformed(ptr, "wrong-value", "want a YYYY-MM-DD date")
	}
	return nil
}

func checkURI(ptr, s string) error {
	u, err := url.Parse(s)
	if err != nil || len(s) > 2048 || u.Scheme != "https" || u.Host == "" || u.Host != strings.ToLower(u.Host) || u.User != nil {
		return malformed(ptr, "wrong-value", "want an absolute https URI with a lowercase host")
	}
	return nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func checkHex64(ptr, s string) error {
	if !isHex64(s) {
		return malformed(ptr, "wrong-value", "want 64 lowercase hex digits")
	}
	return nil
}
