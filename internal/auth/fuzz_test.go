package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	f.Add("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=EN1rkv4INIkZRbwreBs9NaKc06JKE2w5eOPMcUUwoCA=")
	f.Add("hmac-sha256 signature=DVGAUly4x5tOMzYMfc9WVFTG+6JKmOdybg+Rau4uEfs=&signedheaders=date;host;x-ms-content-sha256")
	f.Add("Bearer abc")
	f.Add("HMAC-SHA256 &&==;;")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		ah, err := parseAuthorization(s)
		if err != nil {
			if !errors.Is(err, ErrBadAuthHeader) {
				t.Fatalf("error %v does not wrap ErrBadAuthHeader", err)
			}
			return
		}
		if len(ah.signature) != 32 || len(ah.signedHeaders) < 3 || len(ah.signedHeaders) > 4 {
			t.Fatalf("accepted invalid header %q: %+v", s, ah)
		}
		// Re-formatting the parsed value must parse to the same result.
		again := "HMAC-SHA256 SignedHeaders=" + strings.Join(ah.signedHeaders, ";") +
			"&Signature=" + base64.StdEncoding.EncodeToString(ah.signature)
		ah2, err := parseAuthorization(again)
		if err != nil || strings.Join(ah2.signedHeaders, ";") != strings.Join(ah.signedHeaders, ";") || string(ah2.signature) != string(ah.signature) {
			t.Fatalf("round trip of %q failed: %v", again, err)
		}
		// Verify must never panic on whatever was accepted.
		v, _ := NewVerifier([]string{testKey}, 0, nil)
		h := http.Header{}
		h.Set("Authorization", s)
		_ = v.Verify("GET", "/", "h", h, nil)
	})
}
