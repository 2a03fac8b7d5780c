// Package auth authenticates Azure Communication Services (ACS) REST requests
// signed with an access key, the scheme used by every official ACS SDK when it
// is constructed from a connection string ("endpoint=…;accesskey=…").
//
// The client computes
//
//	stringToSign = METHOD + "\n" + pathAndQuery + "\n" + x-ms-date + ";" + host + ";" + x-ms-content-sha256
//	signature    = base64(HMAC-SHA256(base64decode(accessKey), stringToSign))
//
// and sends
//
//	x-ms-date:           <IMF-fixdate>
//	x-ms-content-sha256: base64(SHA-256(body))
//	Authorization:       HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<signature>
//
// A [Verifier] recomputes the body hash from the raw body bytes, checks the
// date against an allowed clock skew and recomputes the signature with each
// configured key (primary and secondary keys allow rotation). The
// path-and-query must be the request-target exactly as received
// ([net/http.Request.RequestURI]); it is never re-encoded, because the SDK
// signs its own percent-encoding (for example "8%3Aacs%3Ares_user2").
//
// Failures are reported as errors wrapping one of the sentinel errors
// ([ErrMissingAuth], [ErrBadAuthHeader], [ErrBadSignature], [ErrStaleDate],
// [ErrBodyHashMismatch], [ErrBodyTooLarge], [ErrBodyUnreadable]) so callers can
// map them to HTTP responses with [errors.Is] or [StatusCode].
//
// [Sign] produces the same headers as the SDK and is meant for Go tests and
// load clients.
package auth
