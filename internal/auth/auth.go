package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors returned (wrapped, with detail) by [Verifier.Verify] and
// passed to the error callback of [Verifier.Middleware]. Test with
// [errors.Is].
var (
	// ErrMissingAuth means the request lacks the Authorization header or
	// one of the headers it claims to sign (x-ms-date, host,
	// x-ms-content-sha256).
	ErrMissingAuth = errors.New("auth: missing authentication")

	// ErrBadAuthHeader means the Authorization header (or the date header)
	// is present but malformed, uses an unsupported scheme (for example
	// Bearer) or signs an unsupported set of headers.
	ErrBadAuthHeader = errors.New("auth: malformed Authorization header")

	// ErrBadSignature means the HMAC-SHA256 signature does not match any
	// configured access key.
	ErrBadSignature = errors.New("auth: signature mismatch")

	// ErrStaleDate means the signed date is further than the allowed skew
	// from the server clock, in the past or in the future.
	ErrStaleDate = errors.New("auth: request date outside allowed clock skew")

	// ErrBodyHashMismatch means x-ms-content-sha256 is not the SHA-256 of
	// the received body.
	ErrBodyHashMismatch = errors.New("auth: body hash mismatch")

	// ErrBodyTooLarge means the request body exceeds the verifier's limit
	// (see [Verifier.MaxBodyBytes]). Map it to 413.
	ErrBodyTooLarge = errors.New("auth: request body too large")

	// ErrBodyUnreadable means reading the request body failed (typically
	// the client went away). Only produced by [Verifier.Middleware].
	ErrBodyUnreadable = errors.New("auth: request body unreadable")
)

// Defaults used by [NewVerifier].
const (
	// DefaultMaxSkew is the default allowed difference between the signed
	// date and the server clock.
	DefaultMaxSkew = 15 * time.Minute
	// DefaultMaxBodyBytes is the default body limit of [Verifier.Middleware].
	DefaultMaxBodyBytes = 4 << 20
)

// Header names and values used by the scheme.
const (
	HeaderDate          = "X-Ms-Date"
	HeaderContentSHA256 = "X-Ms-Content-Sha256"
	// HeaderHost carries the ACS endpoint host when the request is sent to a
	// different (storage) host; recording download/delete sign its value
	// instead of Host.
	HeaderHost = "X-Ms-Host"
	Scheme     = "HMAC-SHA256"
	// SignedHeaders is the SignedHeaders value every ACS SDK sends.
	SignedHeaders = "x-ms-date;host;x-ms-content-sha256"
)

// maxAuthHeaderLen bounds the Authorization header we are willing to parse.
const maxAuthHeaderLen = 1024

// Verifier checks HMAC-SHA256 signed ACS requests. Create it with
// [NewVerifier]; it is safe for concurrent use as long as its exported fields
// are not modified after the first call.
type Verifier struct {
	keys [][]byte

	// MaxSkew is the largest accepted difference between the signed date
	// and Now, in either direction.
	MaxSkew time.Duration
	// Now returns the current time.
	Now func() time.Time
	// MaxBodyBytes limits the body read by Middleware.
	MaxBodyBytes int64
}

// NewVerifier returns a Verifier accepting requests signed with any of
// accessKeys (base64, as found in the ACS connection string). maxSkew <= 0
// selects [DefaultMaxSkew]; a nil now selects [time.Now]. It fails if no key
// is given or a key is empty or not valid base64.
func NewVerifier(accessKeys []string, maxSkew time.Duration, now func() time.Time) (*Verifier, error) {
	if len(accessKeys) == 0 {
		return nil, errors.New("auth: at least one access key is required")
	}
	keys := make([][]byte, 0, len(accessKeys))
	for i, k := range accessKeys {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("auth: access key %d is not valid base64: %w", i, err)
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("auth: access key %d is empty", i)
		}
		keys = append(keys, b)
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{keys: keys, MaxSkew: maxSkew, Now: now, MaxBodyBytes: DefaultMaxBodyBytes}, nil
}

// Verify authenticates one request. method is the HTTP method, requestURI the
// request-target exactly as received (r.RequestURI), host the Host header
// (r.Host, including any port) and body the complete raw body. It returns nil
// or an error wrapping one of the package's sentinel errors.
//
// If the signed headers name x-ms-date but the request has none, the Date
// header is used instead.
func (v *Verifier) Verify(method, requestURI, host string, header http.Header, body []byte) error {
	authz := header.Get("Authorization")
	if authz == "" {
		return fmt.Errorf("%w: no Authorization header", ErrMissingAuth)
	}
	ah, err := parseAuthorization(authz)
	if err != nil {
		return err
	}

	values := make([]string, len(ah.signedHeaders))
	var xmsDate, date string
	for i, name := range ah.signedHeaders {
		var val string
		switch name {
		case "host":
			val = host
		case "x-ms-date":
			val = header.Get(HeaderDate)
			if val == "" {
				val = header.Get("Date")
			}
			xmsDate = val
		case "date":
			val = header.Get("Date")
			date = val
		case "x-ms-content-sha256":
			val = header.Get(HeaderContentSHA256)
		}
		if val == "" {
			return fmt.Errorf("%w: signed header %q is missing or empty", ErrMissingAuth, name)
		}
		values[i] = val
	}

	dateStr := xmsDate
	if dateStr == "" {
		dateStr = date
	}
	signedAt, err := http.ParseTime(dateStr)
	if err != nil {
		return fmt.Errorf("%w: unparseable date %q", ErrBadAuthHeader, dateStr)
	}
	now := v.Now()
	if d := now.Sub(signedAt); d > v.MaxSkew {
		return fmt.Errorf("%w: date %q is %s in the past (max %s)", ErrStaleDate, dateStr, d.Round(time.Second), v.MaxSkew)
	} else if -d > v.MaxSkew {
		return fmt.Errorf("%w: date %q is %s in the future (max %s)", ErrStaleDate, dateStr, (-d).Round(time.Second), v.MaxSkew)
	}

	wantHash := ContentHash(body)
	gotHash := header.Get(HeaderContentSHA256)
	if subtle.ConstantTimeCompare([]byte(gotHash), []byte(wantHash)) != 1 {
		return fmt.Errorf("%w: x-ms-content-sha256 does not match the %d-byte body", ErrBodyHashMismatch, len(body))
	}

	sts := stringToSign(method, requestURI, values)
	for _, k := range v.keys {
		if hmac.Equal(computeHMAC(k, sts), ah.signature) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %s", ErrBadSignature, strings.ToUpper(method), requestURI)
}

// Middleware returns a handler that reads the request body (at most
// MaxBodyBytes), verifies the request and, on success, calls next with
// r.Body replaced by an in-memory copy of the body. On failure it calls
// onError with an error wrapping a sentinel error and does not call next; a
// nil onError writes a plain-text response with [StatusCode].
//
// The signed host is the X-Ms-Host header when present (recording
// download/delete), else r.Host.
func (v *Verifier) Middleware(next http.Handler, onError func(w http.ResponseWriter, r *http.Request, err error)) http.Handler {
	if onError == nil {
		onError = func(w http.ResponseWriter, _ *http.Request, err error) {
			code := StatusCode(err)
			http.Error(w, http.StatusText(code), code)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := v.readBody(r)
		if err != nil {
			onError(w, r, err)
			return
		}
		requestURI := r.RequestURI
		if requestURI == "" && r.URL != nil {
			requestURI = r.URL.RequestURI()
		}
		host := r.Header.Get(HeaderHost)
		if host == "" {
			host = r.Host
		}
		if err := v.Verify(r.Method, requestURI, host, r.Header, body); err != nil {
			onError(w, r, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		next.ServeHTTP(w, r)
	})
}

func (v *Verifier) readBody(r *http.Request) ([]byte, error) {
	limit := v.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: Content-Length %d exceeds %d bytes", ErrBodyTooLarge, r.ContentLength, limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	defer r.Body.Close()
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: %w", ErrBodyTooLarge, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrBodyUnreadable, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrBodyTooLarge, limit)
	}
	return body, nil
}

// StatusCode maps a Verify/Middleware error to an HTTP status: 200 for nil,
// 413 for [ErrBodyTooLarge], 400 for [ErrBodyUnreadable] and 401 otherwise.
func StatusCode(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBodyUnreadable):
		return http.StatusBadRequest
	default:
		return http.StatusUnauthorized
	}
}

// Sign returns the x-ms-date, x-ms-content-sha256 and Authorization headers
// an ACS SDK would send for the request. key is the base64 access key (if it
// is not valid base64 its raw bytes are used, which no [Verifier] accepts).
// The caller must send the request with Host equal to host (in Go, set
// http.Request.Host; a "Host" entry in the header map is ignored).
func Sign(method, requestURI, host string, body []byte, key string, date time.Time) http.Header {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		k = []byte(key)
	}
	d := date.UTC().Format(http.TimeFormat)
	hash := ContentHash(body)
	sig := computeHMAC(k, stringToSign(method, requestURI, []string{d, host, hash}))
	h := make(http.Header, 3)
	h.Set(HeaderDate, d)
	h.Set(HeaderContentSHA256, hash)
	h.Set("Authorization", Scheme+" SignedHeaders="+SignedHeaders+"&Signature="+base64.StdEncoding.EncodeToString(sig))
	return h
}

// ContentHash returns base64(SHA-256(body)), the x-ms-content-sha256 value.
func ContentHash(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func stringToSign(method, requestURI string, values []string) string {
	return strings.ToUpper(method) + "\n" + requestURI + "\n" + strings.Join(values, ";")
}

func computeHMAC(key []byte, sts string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sts))
	return m.Sum(nil)
}

// authHeader is a parsed "HMAC-SHA256 SignedHeaders=…&Signature=…" value.
type authHeader struct {
	signedHeaders []string // lower case, in signing order
	signature     []byte   // decoded, 32 bytes
}

// parseAuthorization parses an HMAC-SHA256 Authorization header value. The
// scheme and parameter names are case-insensitive, parameters may come in
// any order, and SignedHeaders must name host, x-ms-content-sha256 and a
// date header (x-ms-date or date), each once, and nothing else.
func parseAuthorization(v string) (authHeader, error) {
	var ah authHeader
	if len(v) > maxAuthHeaderLen {
		return ah, fmt.Errorf("%w: longer than %d bytes", ErrBadAuthHeader, maxAuthHeaderLen)
	}
	v = strings.TrimSpace(v)
	scheme, rest, ok := strings.Cut(v, " ")
	if !ok {
		return ah, fmt.Errorf("%w: no parameters", ErrBadAuthHeader)
	}
	if !strings.EqualFold(scheme, Scheme) {
		return ah, fmt.Errorf("%w: unsupported scheme %q", ErrBadAuthHeader, truncate(scheme))
	}
	var haveSH, haveSig bool
	for part := range strings.SplitSeq(strings.TrimSpace(rest), "&") {
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return ah, fmt.Errorf("%w: parameter %q has no value", ErrBadAuthHeader, truncate(part))
		}
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		switch {
		case strings.EqualFold(name, "SignedHeaders"):
			if haveSH {
				return ah, fmt.Errorf("%w: duplicate SignedHeaders", ErrBadAuthHeader)
			}
			haveSH = true
			sh, err := parseSignedHeaders(val)
			if err != nil {
				return ah, err
			}
			ah.signedHeaders = sh
		case strings.EqualFold(name, "Signature"):
			if haveSig {
				return ah, fmt.Errorf("%w: duplicate Signature", ErrBadAuthHeader)
			}
			haveSig = true
			sig, err := base64.StdEncoding.DecodeString(val)
			if err != nil || len(sig) != sha256.Size {
				return ah, fmt.Errorf("%w: Signature is not a base64 HMAC-SHA256", ErrBadAuthHeader)
			}
			ah.signature = sig
		default:
			return ah, fmt.Errorf("%w: unknown parameter %q", ErrBadAuthHeader, truncate(name))
		}
	}
	if !haveSH {
		return ah, fmt.Errorf("%w: missing SignedHeaders", ErrBadAuthHeader)
	}
	if !haveSig {
		return ah, fmt.Errorf("%w: missing Signature", ErrBadAuthHeader)
	}
	return ah, nil
}

func parseSignedHeaders(val string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for name := range strings.SplitSeq(val, ";") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "host", "x-ms-date", "date", "x-ms-content-sha256":
		default:
			return nil, fmt.Errorf("%w: unsupported signed header %q", ErrBadAuthHeader, truncate(name))
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: signed header %q listed twice", ErrBadAuthHeader, name)
		}
		seen[name] = true
		out = append(out, name)
	}
	if !seen["host"] || !seen["x-ms-content-sha256"] || !(seen["x-ms-date"] || seen["date"]) {
		return nil, fmt.Errorf("%w: SignedHeaders must include host, x-ms-content-sha256 and x-ms-date (or date)", ErrBadAuthHeader)
	}
	return out, nil
}

// truncate keeps attacker-controlled strings short in error messages.
func truncate(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
