package audit

import (
	"context"

	"github.com/pledgelog/pledgelog/attest"
)

// RunParsing is Run with the auditor's leaf parser replaced by parse, so
// that a test sees which leaves the audit parses.
func RunParsing(ctx context.Context, cfg Config, parse func([]byte) (*attest.Envelope, error)) (*Report, error) {
	a, err := newAuditor(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer a.cleanup()
	a.parse = parse
	return a.run(ctx)
}
