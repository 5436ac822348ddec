package bundle

import "errors"

// Sentinel errors. Every error from Parse, Verify, Upgrade and
// ParseTLogProof wraps one of them, usually inside a *FieldError naming the
// part of the bundle at fault. Any of them means the bundle proves nothing
// and must be rejected; the comment says what to suspect.
var (
	// ErrMalformed: the bundle (or tlog-proof) does not follow the format:
	// bad JSON, an unknown or repeated member, non-canonical base64 or
	// number, a size limit exceeded.
	ErrMalformed = errors.New("malformed bundle")

	// ErrMediaType: the bundle is of another type or version.
	ErrMediaType = errors.New("unsupported media type")

	// ErrPolicy: the policy itself is unusable (no origin, no log key,
	// a quorum above the number of witnesses). A usage error.
	ErrPolicy = errors.New("invalid policy")

	// ErrCheckpoint: the checkpoint is not a valid signed checkpoint of the
	// pinned origin.
	ErrCheckpoint = errors.New("invalid checkpoint")

	// ErrLogSignature: the checkpoint carries no valid signature by a
	// pinned log key, or a pinned key's signature fails.
	ErrLogSignature = errors.New("log signature not verified")

	// ErrCosignature: a pinned witness's cosignature fails to verify.
	ErrCosignature = errors.New("witness cosignature not verified")

	// ErrQuorum: fewer pinned witnesses cosigned than the policy requires.
	// The bundle may be upgraded later (Upgrade) once witnesses cosign.
	ErrQuorum = errors.New("witness quorum not met")

	// ErrInclusion: an inclusion proof (of the entry or of an evidence
	// entry) does not lead from its leaf and index to the checkpoint root.
	ErrInclusion = errors.New("inclusion not proven")

	// ErrEnvelope: the entry is not a canonical attestation of this log,
	// or one of its signatures does not verify.
	ErrEnvelope = errors.New("invalid envelope")

	// ErrEvidence: an evidence entry is not a valid registry event
	// introducing a key: wrong kind, wrong origin, out of order, or badly
	// signed.
	ErrEvidence = errors.New("invalid registry evidence")

	// ErrRegistrar: a registry event is signed by a registrar key the
	// policy does not pin, and the bundle carries no rotation chain from
	// a pinned key. Pin the registrar's current key, or ask the log for a
	// bundle with the rotation chain.
	ErrRegistrar = errors.New("registrar key not pinned")

	// ErrKey: the entry is signed by a key the evidence does not show to
	// belong to the principal the entry speaks for (a foreign key, a key
	// added at or after the entry's index, or no evidence at all).
	ErrKey = errors.New("signing key not proven")

	// ErrAuditState: the audit state is for another log, or not
	// consistent with the bundle's checkpoint: a split view, or a bad
	// proof.
	ErrAuditState = errors.New("audit state does not match")

	// ErrRevoked: the audit state shows that a key of the chain was
	// revoked, or its signatures void, at the index where it signed.
	ErrRevoked = errors.New("key revoked")

	// ErrMap: a v2 bundle's map proof does not verify against the map
	// root its checkpoint commits to, or the checkpoint commits to none,
	// or a proven value contradicts the entry (a key added after it, an
	// accord logged after the pledge).
	ErrMap = errors.New("map proof not verified")

	// ErrConsistency: Upgrade's new checkpoint is not proven to extend the
	// bundle's: a split view, or a bad proof.
	ErrConsistency = errors.New("consistency not proven")
)

// A FieldError reports which part of a bundle failed, and why.
type FieldError struct {
	// Field names the part: "mediaType", "checkpoint", "entry",
	// "entry.index", "entry.leaf", "entry.signatures[1]",
	// "evidence[0].proof", "audit", and so on.
	Field string
	Err   error // one of the sentinels above
	Cause error // the underlying error, if any
}

func (e *FieldError) Error() string {
	s := e.Field + ": " + e.Err.Error()
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause, for errors.Is and errors.As.
func (e *FieldError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

func fieldErr(field string, sentinel, cause error) error {
	return &FieldError{Field: field, Err: sentinel, Cause: cause}
}
