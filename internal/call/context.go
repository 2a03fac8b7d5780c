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
	Expires      int64  `json:"e"` // unix seconds
}

var errBadContext = errors.New("incomingCallContext is not valid")

func sealContext(key []byte, serverCallID string, expires time.Time) string {
	p, _ := json.Marshal(contextPayload{ServerCallID: serverCallID, Expires: expires.Unix()})
	enc := base64.RawURLEncoding.EncodeToString(p)
	return enc + "." + base64.RawURLEncoding.EncodeToString(mac(key, enc))
}

func openContext(key []byte, token string, now time.Time) (string, error) {
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", errBadContext
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, enc)) {
		return "", errBadContext
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", errBadContext
	}
	var p contextPayload
	if json.Unmarshal(raw, &p) != nil || p.ServerCallID == "" {
		return "", errBadContext
	}
	if now.Unix() > p.Expires {
		return "", errors.New("incomingCallContext has expired")
	}
	return p.ServerCallID, nil
}

func mac(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}
