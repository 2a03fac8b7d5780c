package acs

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a failure that knows how every edge reports it: the REST status and
// ACS error code of the API's error body, the ACS result subcode, and the SIP
// status when a call leg is refused because of it.
type Error struct {
	Status    int    // HTTP status
	Code      string // error.code of the ACS error body
	Message   string
	SubCode   int // ACS subcode, 0 if none
	SIPStatus int // SIP final status for a refused leg, 0 if not applicable
}

func (e *Error) Error() string { return e.Message }

// ErrorResponse is CommunicationErrorResponse, the one error shape of the API.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is CommunicationError.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

// AsError returns err as an *Error, mapping anything unknown to a 500.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Code: "InternalServerError", Message: "internal server error", SubCode: 9999}
}

// Errorf builds an *Error.
func Errorf(status int, code string, subCode int, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, SubCode: subCode, Message: fmt.Sprintf(format, a...)}
}

// BadRequest is a 400 for an invalid request body or argument (subcode 8523).
func BadRequest(format string, a ...any) *Error {
	return Errorf(http.StatusBadRequest, "BadRequest", 8523, format, a...)
}

// NotFound is a 404 for an unknown call, participant or resource (subcode 8522).
func NotFound(format string, a ...any) *Error {
	return Errorf(http.StatusNotFound, "NotFound", 8522, format, a...)
}

// Unauthorized is a 401 for a request that failed authentication (subcode 7509).
func Unauthorized(format string, a ...any) *Error {
	return Errorf(http.StatusUnauthorized, "Unauthorized", 7509, format, a...)
}

// Conflict is a 400 for an action that is not valid in the call's current
// state (subcode 8585), e.g. answering a call that was already answered or
// whose caller hung up.
func InvalidState(format string, a ...any) *Error {
	return Errorf(http.StatusBadRequest, "BadRequest", 8585, format, a...)
}

// TooManyRequests is a 429 for a client going faster than a configured
// rate; SIP callers get 503.
func TooManyRequests(format string, a ...any) *Error {
	e := Errorf(http.StatusTooManyRequests, "TooManyRequests", 0, format, a...)
	e.SIPStatus = 503
	return e
}

// Unavailable is a 503 when the server refuses new work (overload, shutdown).
func Unavailable(format string, a ...any) *Error {
	e := Errorf(http.StatusServiceUnavailable, "ServiceUnavailable", 0, format, a...)
	e.SIPStatus = 503
	return e
}
