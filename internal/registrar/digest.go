package registrar

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// maxDigestHeaderLen bounds the Authorization header we parse.
const maxDigestHeaderLen = 4096

// nonceFutureTolerance accepts nonces stamped slightly after "now" (the clock
// may step backwards between challenge and answer).
const nonceFutureTolerance = time.Minute

// digestCreds holds the parameters of a Digest Authorization header.
type digestCreds struct {
	username, realm, nonce, uri, response string
	algorithm, cnonce, qop, nc, opaque    string
}

// errBadDigest marks an unparseable Digest header.
var errBadDigest = errors.New("malformed Digest credentials")

// parseDigest parses `Digest k=v, k="quoted", …`. Parameter names are
// case-insensitive; unknown parameters are ignored; duplicates are errors.
func parseDigest(v string) (digestCreds, error) {
	var c digestCreds
	if len(v) > maxDigestHeaderLen {
		return c, fmt.Errorf("%w: longer than %d bytes", errBadDigest, maxDigestHeaderLen)
	}
	s := strings.TrimLeft(v, " \t")
	const scheme = "digest"
	if len(s) <= len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) || (s[len(scheme)] != ' ' && s[len(scheme)] != '\t') {
		return c, fmt.Errorf("%w: not the Digest scheme", errBadDigest)
	}
	s = s[len(scheme):]
	seen := map[string]bool{}
	for {
		s = strings.TrimLeft(s, " \t\r\n,")
		if s == "" {
			break
		}
		// name
		i := 0
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		if i == 0 {
			return c, fmt.Errorf("%w: expected parameter name at %q", errBadDigest, clip(s))
		}
		name := strings.ToLower(s[:i])
		s = strings.TrimLeft(s[i:], " \t")
		if s == "" || s[0] != '=' {
			return c, fmt.Errorf("%w: parameter %q has no value", errBadDigest, clip(name))
		}
		s = strings.TrimLeft(s[1:], " \t")
		// value
		var val string
		if s != "" && s[0] == '"' {
			var b strings.Builder
			j, closed := 1, false
			for j < len(s) {
				ch := s[j]
				if ch == '\\' && j+1 < len(s) {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if ch == '"' {
					closed = true
					j++
					break
				}
				b.WriteByte(ch)
				j++
			}
			if !closed {
				return c, fmt.Errorf("%w: unterminated quoted value for %q", errBadDigest, clip(name))
			}
			val, s = b.String(), s[j:]
		} else {
			j := 0
			for j < len(s) && s[j] != ',' && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			if j == 0 {
				return c, fmt.Errorf("%w: empty value for %q", errBadDigest, clip(name))
			}
			val, s = s[:j], s[j:]
		}
		s = strings.TrimLeft(s, " \t")
		if s != "" && s[0] != ',' {
			return c, fmt.Errorf("%w: expected ',' after %q", errBadDigest, clip(name))
		}
		if seen[name] {
			return c, fmt.Errorf("%w: duplicate parameter %q", errBadDigest, clip(name))
		}
		seen[name] = true
		switch name {
		case "username":
			c.username = val
		case "realm":
			c.realm = val
		case "nonce":
			c.nonce = val
		case "uri":
			c.uri = val
		case "response":
			c.response = val
		case "algorithm":
			c.algorithm = val
		case "cnonce":
			c.cnonce = val
		case "qop":
			c.qop = val
		case "nc":
			c.nc = val
		case "opaque":
			c.opaque = val
		}
	}
	return c, nil
}

// isTokenChar reports RFC 3261 token characters.
func isTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", b) >= 0
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// authOutcome is the result of checking a request's digest credentials.
type authOutcome int

const (
	authOK        authOutcome = iota
	authChallenge             // no usable credentials: (re)challenge
	authStale                 // correct credentials, expired nonce: challenge with stale=true
	authBad                   // malformed credentials: 400
	authError                 // credential store failure: 500
)

// checkDigest verifies the request's credentials in headers named hdrName
// ("Authorization" or "Proxy-Authorization"). It returns the authenticated
// username on authOK and a short reason otherwise.
func (r *Registrar) checkDigest(ctx context.Context, req *sip.Request, hdrName string) (string, authOutcome, string) {
	var creds *digestCreds
	for _, h := range req.GetHeaders(hdrName) {
		c, err := parseDigest(h.Value())
		if err != nil {
			// Another scheme (e.g. Bearer) is not ours to judge; a broken
			// Digest header is a bad request.
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Value())), "digest") {
				return "", authBad, err.Error()
			}
			continue
		}
		if c.realm == r.realm {
			creds = &c
			break
		}
	}
	if creds == nil {
		return "", authChallenge, "no credentials for realm"
	}
	c := *creds
	if c.username == "" || c.nonce == "" || c.uri == "" || c.response == "" {
		return "", authBad, "missing digest parameter"
	}
	if c.algorithm != "" && !strings.EqualFold(c.algorithm, "MD5") {
		return "", authChallenge, "unsupported algorithm " + clip(c.algorithm)
	}
	if len(c.response) != 32 {
		return "", authBad, "malformed digest response"
	}
	switch strings.ToLower(c.qop) {
	case "":
	case "auth":
		if c.cnonce == "" || len(c.nc) != 8 {
			return "", authBad, "qop=auth without cnonce/nc"
		}
		if _, err := strconv.ParseUint(c.nc, 16, 32); err != nil {
			return "", authBad, "malformed nc"
		}
	default:
		return "", authChallenge, "unsupported qop " + clip(c.qop)
	}
	if !uriMatches(c.uri, req.Recipient) {
		return "", authBad, "digest uri does not match Request-URI"
	}
	now := r.now()
	valid, fresh := r.checkNonce(c.nonce, now)
	if !valid {
		return "", authChallenge, "unknown nonce"
	}

	password, ok, err := r.creds.Password(ctx, c.username)
	if err != nil {
		r.log.Error("SIP credential lookup failed", "username", c.username, "error", err)
		return "", authError, "credential lookup failed"
	}
	if !ok {
		return "", authChallenge, "unknown user"
	}
	want := digestResponse(c, string(req.Method), r.realm, password)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(c.response)), []byte(want)) != 1 {
		return "", authChallenge, "wrong password"
	}
	if !fresh {
		return "", authStale, "nonce expired"
	}
	return c.username, authOK, ""
}

// digestResponse computes the RFC 2617 MD5 request-digest (lower-case hex).
func digestResponse(c digestCreds, method, realm, password string) string {
	ha1 := md5hex(c.username + ":" + realm + ":" + password)
	ha2 := md5hex(method + ":" + c.uri)
	if c.qop == "" {
		return md5hex(ha1 + ":" + c.nonce + ":" + ha2)
	}
	return md5hex(ha1 + ":" + c.nonce + ":" + c.nc + ":" + c.cnonce + ":" + strings.ToLower(c.qop) + ":" + ha2)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// uriMatches compares the digest-uri with the Request-URI by scheme, user,
// host and port (missing port = scheme default), ignoring parameters, since
// some clients send the full Request-URI and others only its address part.
func uriMatches(digestURI string, reqURI sip.Uri) bool {
	var u sip.Uri
	if err := sip.ParseUri(digestURI, &u); err != nil {
		return digestURI == reqURI.String()
	}
	return strings.EqualFold(schemeOf(u), schemeOf(reqURI)) &&
		u.User == reqURI.User &&
		strings.EqualFold(u.Host, reqURI.Host) &&
		portOf(u) == portOf(reqURI)
}

func schemeOf(u sip.Uri) string {
	if u.Scheme == "" {
		return "sip"
	}
	return strings.ToLower(u.Scheme)
}

func portOf(u sip.Uri) int {
	if u.Port > 0 {
		return u.Port
	}
	if schemeOf(u) == "sips" {
		return 5061
	}
	return 5060
}

// newNonce returns base64url(timestamp(8) | salt(8) | HMAC-SHA256(secret, timestamp|salt)[:16]).
func (r *Registrar) newNonce(t time.Time) string {
	var buf [32]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(t.UnixNano()))
	_, _ = rand.Read(buf[8:16])
	copy(buf[16:], r.nonceMAC(buf[:16]))
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

// checkNonce reports whether n was issued by this registrar and whether it is
// still within NonceTTL.
func (r *Registrar) checkNonce(n string, now time.Time) (valid, fresh bool) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 32 {
		return false, false
	}
	if !hmac.Equal(b[16:], r.nonceMAC(b[:16])) {
		return false, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	age := now.Sub(issued)
	return true, age >= -nonceFutureTolerance && age <= r.opts.NonceTTL
}

func (r *Registrar) nonceMAC(data []byte) []byte {
	m := hmac.New(sha256.New, r.secret)
	m.Write([]byte(r.realm))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)[:16]
}

// challenge returns a Digest challenge header value.
func (r *Registrar) challenge(stale bool) string {
	v := `Digest realm="` + quoteEscape(r.realm) + `", nonce="` + r.newNonce(r.now()) + `", algorithm=MD5, qop="auth"`
	if stale {
		v += ", stale=true"
	}
	return v
}

func quoteEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
