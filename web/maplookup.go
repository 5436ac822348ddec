package web

import (
	"errors"
	"net/http"

	"filippo.io/torchwood/prefix"
	"github.com/labstack/echo/v4"
	"github.com/pledgelog/pledgelog/api"
	"github.com/pledgelog/pledgelog/attest"
	"github.com/pledgelog/pledgelog/attestlog"
)

// getMapLookup is GET /api/v1/map: one leaf of the registry map, named by
// its parts, proven against the latest checkpoint (api.MapLookup).
//
//	?signatory=S                           the principal S (or registrar)
//	?signatory=S&keyid=K                   S's key K
//	?accord=A                              the accord A
//	?signatory=S&accord=A&principle=P      the cell of S's pledges to A's P
func (s *Server) getMapLookup(c echo.Context) error {
	q, err := params(c, "signatory", "keyid", "accord", "principle")
	if err != nil {
		return err
	}
	for _, f := range []string{"signatory", "accord", "principle"} {
		if v, ok := q[f]; ok && !idPattern.MatchString(v) && (f != "signatory" || v != attest.RegistrarID) {
			return problemf(kindBadParameter, f+" must be an id (lowercase letters, digits and '-')")
		}
	}
	if v, ok := q["keyid"]; ok && !hex64.MatchString(v) {
		return problemf(kindBadParameter, "keyid must be 64 lowercase hex digits")
	}
	var kind string
	var label [32]byte
	sig, hasSig := q["signatory"]
	_, hasKey := q["keyid"]
	_, hasAccord := q["accord"]
	_, hasPrinciple := q["principle"]
	switch {
	case hasSig && hasKey && !hasAccord && !hasPrinciple:
		kind, label = "key", attest.MapLabel(attest.MapKey, sig, q["keyid"])
	case hasSig && hasAccord && hasPrinciple && !hasKey:
		kind, label = "cell", attest.MapLabel(attest.MapCell, sig, q["accord"], q["principle"])
	case hasSig && len(q) == 1:
		kind, label = "principal", attest.MapLabel(attest.MapPrincipal, sig)
	case hasAccord && len(q) == 1:
		kind, label = "accord", attest.MapLabel(attest.MapAccord, q["accord"])
	default:
		return problemf(kindBadParameter, "ask for signatory, signatory and keyid, accord, or signatory, accord and principle")
	}
	l, err := s.alog.MapLookup(c.Request().Context(), label)
	if errors.Is(err, attestlog.ErrMapUnavailable) {
		c.Response().Header().Set("Retry-After", "1")
		return problemf(kindMapUnavailable, "the registry map is not at the latest checkpoint yet; ask again")
	}
	if err != nil {
		return err
	}
	out := api.MapLookup{Checkpoint: string(l.Checkpoint), Size: l.Size, MapRoot: l.Root[:], Kind: kind,
		Label: label[:], Value: l.Value, Proof: make([]api.MapProofNode, len(l.Proof))}
	for i, n := range l.Proof {
		out.Proof[i] = mapProofNode(n)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheCheckpoint)
	return c.JSON(http.StatusOK, out)
}

func mapProofNode(n prefix.ProofNode) api.MapProofNode {
	b := n.Label.Bytes()
	return api.MapProofNode{Label: b[:], Bits: n.Label.BitLen(), Hash: n.Hash[:]}
}
