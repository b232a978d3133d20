package apilens

import (
	"errors"
	"fmt"
)

// Error codes, mapped to HTTP statuses in one place (package web).
const (
	EINVALID      = "invalid"      // the request is malformed
	EUNAUTHORIZED = "unauthorized" // no or wrong credentials
	EFORBIDDEN    = "forbidden"    // the role may not do this
	ENOTFOUND     = "not_found"    // no such thing
	ECONFLICT     = "conflict"     // already exists
	ETOOLARGE     = "too_large"    // body over the size limit
	EBUSY         = "busy"         // back-pressure: retry later
	EUNAVAILABLE  = "unavailable"  // a dependency is down: retry later
	EINTERNAL     = "internal"     // the server's fault
)

// Error is an error with a code and a message meant for the client.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("apilens: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-facing message of err: that of its
// *Error, or "internal error" so internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
