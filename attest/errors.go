package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, usually inside a [*FieldError] that names the offending field, or
// [ErrStore], which says nothing about the entry. The comment on each says
// how a server should react.
var (
	// ErrMalformed: the bytes are not a well-formed, canonical attestation
	// (bad JSON, unknown or duplicate field, wrong type, non-canonical
	// payload, bad enum value, wrong signature count, too large).
	// Reject with 400 and the field's JSON pointer.
	ErrMalformed = errors.New("malformed attestation")

	// ErrUnknownKey: a signature's keyid names no key in the registry.
	// Reject with 403; the client must register the key first.
	ErrUnknownKey = errors.New("unknown key")

	// ErrRevokedKey: the key is revoked, its signatures are void, or the
	// event tries to add a key that was revoked before. Reject with 403; a
	// cached session token for that key must be dropped.
	ErrRevokedKey = errors.New("revoked key")

	// ErrForeignKey: the key exists but belongs to another principal than
	// the one the statement speaks for, or is not a key this event may be
	// signed with. Reject with 403.
	ErrForeignKey = errors.New("key not authorised for this statement")

	// ErrBadSignature: a signature does not verify over the PAE, or is not
	// in the one encoding allowed (Ed25519: 64 bytes; ECDSA: DER, low S).
	// Reject with 403.
	ErrBadSignature = errors.New("bad signature")

	// ErrChainHead: a registry event's seq/prev is not the head of its
	// chain (stale or forked). Reject with 409; the client re-reads the
	// signatory's head and signs a new event.
	ErrChainHead = errors.New("not at chain head")

	// ErrExists: the event creates something that already exists (a second
	// genesis, an accord or signatory id in use, a key already active).
	// Reject with 409.
	ErrExists = errors.New("already exists")

	// ErrNotFound: the statement refers to a signatory, accord, principle
	// or earlier pledge the registry does not hold. Reject with 422.
	ErrNotFound = errors.New("referenced object not found")
)

// A FieldError reports which field of an envelope or statement is at fault.
// Pointer is an RFC 6901 JSON pointer into the submitted envelope, where
// /payload continues into the decoded statement (so
// /payload/predicate/status is the pledge's status); Code is a stable,
// machine-readable reason such as "unknown-field" or "chain-head".
type FieldError struct {
	Pointer string
	Code    string
	Err     error // one of the sentinels above
	Detail  string
}

func (e *FieldError) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Pointer, e.Code)
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr builds a *FieldError wrapping sentinel.
func fieldErr(sentinel error, ptr, code, format string, args ...any) *FieldError {
	detail := format
	if len(args) > 0 {
		detail = fmt.Sprintf(format, args...)
	}
	return &FieldError{Pointer: ptr, Code: code, Err: sentinel, Detail: detail}
}

// malformed is fieldErr(ErrMalformed, ...).
func malformed(ptr, code, format string, args ...any) *FieldError {
	return fieldErr(ErrMalformed, ptr, code, format, args...)
}

// jsonDetail says what is wrong with JSON that encoding/json rejected, in
// our words: a FieldError's detail is shown to clients, which must not
// see Go's messages (they name Go types and change between releases).
func jsonDetail(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("want %s, not a JSON %s", jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated JSON"
	}
	return "not valid JSON"
}

// jsonKind names the JSON value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a number"
}
