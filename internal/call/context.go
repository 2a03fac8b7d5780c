package call

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// incomingCallContext is opaque to apps: a payload naming the call and its
// expiry, and an HMAC over it so that it cannot be forged or altered.
type contextPayload struct {
	ServerCallID string `json:"s"`
	Invitation   string `json:"i,omitempty"` // set when an app is asked to join as an added participant
	Expires      int64  `json:"e"`           // unix seconds
}

var errBadContext = errors.New("incomingCallContext is not valid")

func sealContext(key []byte, serverCallID, invitation string, expires time.Time) string {
	p, _ := json.Marshal(contextPayload{ServerCallID: serverCallID, Invitation: invitation, Expires: expires.Unix()})
	enc := base64.RawURLEncoding.EncodeToString(p)
	return enc + "." + base64.RawURLEncoding.EncodeToString(mac(key, enc))
}

func openContext(key []byte, token string, now time.Time) (contextPayload, error) {
	var p contextPayload
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return p, errBadContext
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, enc)) {
		return p, errBadContext
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return p, errBadContext
	}
	if json.Unmarshal(raw, &p) != nil || p.ServerCallID == "" {
		return contextPayload{}, errBadContext
	}
	if now.Unix() > p.Expires {
		return contextPayload{}, errors.New("incomingCallContext has expired")
	}
	return p, nil
}

func mac(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}
