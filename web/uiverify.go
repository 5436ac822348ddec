package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
)

// verifyData are the pledge-verify commands for this log.
type verifyData struct {
	URL         string
	Fingerprint string
	PinLink     string // the home page with every key to pin in its fragment
	Commands    []command
}

type command struct {
	What string
	Line string
}

// fingerprint is what the pages show of a vkey: the first 16 bytes of its
// text's SHA-256, in hex groups of four (static/note.js computes the same).
func fingerprint(vkey string) string {
	sum := sha256.Sum256([]byte(vkey))
	h := hex.EncodeToString(sum[:16])
	var groups []string
	for i := 0; i < len(h); i += 4 {
		groups = append(groups, h[i:i+4])
	}
	return strings.Join(groups, " ")
}

func (u *ui) verifyYourself(c echo.Context) error {
	return u.cached(c, "verify", u.renderVerify)
}

func (u *ui) renderVerify(ctx context.Context) ([]byte, error) {
	public := u.s.cfg.PublicURL
	vkey := u.s.log.VerifierKey()
	flags := " --url " + public + " --log-key " + vkey
	registrar, err := u.genesisKey(ctx)
	if err != nil {
		return nil, err
	}
	size := u.s.log.Published().Size
	last := "0"
	if size > 0 {
		last = strconv.FormatUint(size-1, 10)
	}
	d := verifyData{URL: public, Fingerprint: fingerprint(vkey), PinLink: u.pinLink(), Commands: []command{
		{"Prove that an entry is in the log (here the latest):", "pledge-verify inclusion" + flags + " --index " + last},
		{"Prove that the log only grew since your last run (keeps the last verified checkpoint):", "pledge-verify consistency" + flags},
		{"Rebuild the whole tree, the registry and the pledge matrix from the tiles:", "pledge-verify audit" + flags + registrar},
		{"Verify a proof bundle a signatory gave you, offline:", "pledge-verify bundle --log-key " + vkey + registrar + " FILE"},
	}}
	return u.renderBytes(ctx, "verify", "Verify it yourself", d)
}

// pinLink returns the home page's path with the fragment that pins every
// log key (two during a rotation), the witnesses and their quorum, as
// static/page.js reads it. The page offers it to a reader who pinned
// something else, never pins it over their pins by itself.
func (u *ui) pinLink() string {
	var parts []string
	for _, k := range u.s.log.VerifierKeys() {
		parts = append(parts, "vkey="+url.QueryEscape(k))
	}
	for _, w := range u.s.cfg.Witnesses {
		parts = append(parts, "witness="+url.QueryEscape(w))
	}
	if len(u.s.cfg.Witnesses) > 0 {
		parts = append(parts, "quorum="+strconv.Itoa(u.s.cfg.WitnessQuorum))
	}
	return "/#" + strings.Join(parts, "&")
}

// genesisKey returns the --registrar-key flag of the registrar's first
// key, the one the genesis entry names, or "" if the log has none yet.
func (u *ui) genesisKey(ctx context.Context) (string, error) {
	doc, err := u.s.alog.Signatory(ctx, attest.RegistrarID)
	if errors.Is(err, attestlog.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	r, err := doc.Decode()
	if err != nil {
		return "", err
	}
	for _, k := range r.Keys {
		if k.Added == 0 {
			return " --registrar-key " + k.ID, nil
		}
	}
	return "", nil
}
