package events

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifyWithJWKS verifies tok the way an app would: find the key by kid in
// the JWKS document, rebuild it from n and e, check RS256, iss, aud and exp.
func verifyWithJWKS(t *testing.T, jwks []byte, tok, audience string, opts ...jwt.ParserOption) jwt.MapClaims {
	t.Helper()
	var set struct {
		Keys []struct{ Kty, Use, Alg, Kid, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	keyfunc := func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		for _, k := range set.Keys {
			if k.Kid != kid {
				continue
			}
			if k.Kty != "RSA" || k.Use != "sig" || k.Alg != "RS256" {
				return nil, errors.New("unexpected key metadata")
			}
			n, err1 := base64.RawURLEncoding.DecodeString(k.N)
			e, err2 := base64.RawURLEncoding.DecodeString(k.E)
			if err1 != nil || err2 != nil {
				return nil, errors.New("bad key encoding")
			}
			return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
		}
		return nil, errors.New("no key with kid " + kid)
	}
	opts = append([]jwt.ParserOption{
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(testIssuer), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
	}, opts...)
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, keyfunc, opts...); err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	return claims
}

func TestSignerTokenVerifiesWithJWKS(t *testing.T) {
	s := newTestSigner(t)
	tok, err := s.Token(testAudience)
	if err != nil {
		t.Fatal(err)
	}
	claims := verifyWithJWKS(t, s.JWKS(), tok, testAudience)
	iat, _ := claims.GetIssuedAt()
	nbf, _ := claims.GetNotBefore()
	exp, _ := claims.GetExpirationTime()
	if exp.Sub(iat.Time) != TokenLifetime || !nbf.Equal(iat.Time) {
		t.Errorf("iat %v nbf %v exp %v", iat, nbf, exp)
	}
	if aud, ok := claims["aud"].(string); !ok || aud != testAudience {
		t.Errorf("aud %#v, want the string %q", claims["aud"], testAudience)
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		t.Error("no jti")
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["kid"] != s.KeyID() || parsed.Header["alg"] != "RS256" || parsed.Header["typ"] != "JWT" {
		t.Errorf("header %v", parsed.Header)
	}
	if s.KeyID() != jwkThumbprint(&sharedKey(t).PublicKey) {
		t.Error("kid is not the key's thumbprint")
	}

	// A token for someone else's resource does not verify.
	other, _ := s.Token("another-resource")
	claims = jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(other, claims, func(*jwt.Token) (any, error) { return s.PublicKey(), nil },
		jwt.WithAudience(testAudience))
	if !errors.Is(err, jwt.ErrTokenInvalidAudience) {
		t.Errorf("wrong audience accepted: %v", err)
	}
}

func TestSignerTokenReuse(t *testing.T) {
	base := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	s := newTestSigner(t, WithSignerClock(func() time.Time { return base.Add(time.Duration(offset.Load())) }))
	at := func(d time.Duration, aud string) string {
		offset.Store(int64(d))
		tok, err := s.Token(aud)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	t0 := at(0, testAudience)
	tests := []struct {
		at   time.Duration
		aud  string
		same bool
	}{
		{0, testAudience, true},
		{3*time.Minute + 59*time.Second, testAudience, true}, // 61 s left
		{0, "other", false},
		{4 * time.Minute, testAudience, false}, // 60 s left: too little
	}
	for _, tc := range tests {
		if got := at(tc.at, tc.aud); (got == t0) != tc.same {
			t.Errorf("at +%v aud %q: same token = %v, want %v", tc.at, tc.aud, got == t0, tc.same)
		}
	}
	t1 := at(4*time.Minute, testAudience)
	if t1 == t0 || at(5*time.Minute, testAudience) != t1 {
		t.Error("renewed token is not reused")
	}
	claims := verifyWithJWKS(t, s.JWKS(), t1, testAudience,
		jwt.WithTimeFunc(func() time.Time { return base.Add(5 * time.Minute) }))
	if exp, _ := claims.GetExpirationTime(); !exp.Equal(base.Add(9 * time.Minute)) {
		t.Errorf("renewed exp %v", exp)
	}

	ws, err := s.Mint(testAudience, 24*time.Hour)
	if err != nil || ws == t1 {
		t.Fatalf("Mint: %v", err)
	}
	if _, err := s.Mint(testAudience, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Mint(0): %v", err)
	}
}

func TestJWKThumbprintRFC7638(t *testing.T) {
	// RFC 7638 §3.1 example key and thumbprint.
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537}
	if got, want := jwkThumbprint(pub), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint %s, want %s", got, want)
	}
}

func TestLoadOrCreateSigner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "callback.pem")
	s1, err := LoadOrCreateSigner(path, testIssuer, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if s1.PublicKey().N.BitLen() != 2048 {
		t.Errorf("key has %d bits", s1.PublicKey().N.BitLen())
	}
	s2, err := LoadOrCreateSigner(path, testIssuer, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if s1.KeyID() != s2.KeyID() {
		t.Error("reloaded key differs")
	}
	tok, _ := s1.Token(testAudience)
	verifyWithJWKS(t, s2.JWKS(), tok, testAudience)

	// PKCS #8 is accepted too.
	der, err := x509.MarshalPKCS8PrivateKey(sharedKey(t))
	if err != nil {
		t.Fatal(err)
	}
	p8 := filepath.Join(dir, "pkcs8.pem")
	os.WriteFile(p8, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	s3, err := LoadOrCreateSigner(p8, testIssuer, testLog(t))
	if err != nil || s3.KeyID() != jwkThumbprint(&sharedKey(t).PublicKey) {
		t.Errorf("PKCS #8: %v", err)
	}

	bad := []struct {
		name string
		data []byte
	}{
		{"garbage", []byte("not a key")},
		{"certificate only", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})},
		{"small key", func() []byte {
			k, err := rsa.GenerateKey(rand.Reader, 1024)
			if err != nil {
				t.Fatal(err)
			}
			return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		}()},
	}
	for _, tc := range bad {
		p := filepath.Join(dir, tc.name+".pem")
		os.WriteFile(p, tc.data, 0o600)
		if _, err := LoadOrCreateSigner(p, testIssuer, testLog(t)); err == nil {
			t.Errorf("%s: loaded", tc.name)
		}
		if got, _ := os.ReadFile(p); string(got) != string(tc.data) {
			t.Errorf("%s: file was overwritten", tc.name)
		}
	}

	eph, err := LoadOrCreateSigner("", testIssuer, testLog(t))
	if err != nil || eph.KeyID() == "" {
		t.Errorf("ephemeral: %v", err)
	}
}

func TestSignerDocuments(t *testing.T) {
	s := newTestSigner(t)
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(s.JWKS(), &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", s.JWKS(), err)
	}
	k := jwks.Keys[0]
	want := map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.KeyID(), "e": "AQAB"}
	for f, v := range want {
		if k[f] != v {
			t.Errorf("jwks %s = %q, want %q", f, k[f], v)
		}
	}
	if len(k) != 6 || k["n"] == "" {
		t.Errorf("jwks key %v", k)
	}

	var oidc map[string]any
	if err := json.Unmarshal(s.OpenIDConfiguration("https://sb.example:8443/"), &oidc); err != nil {
		t.Fatal(err)
	}
	if oidc["issuer"] != testIssuer || oidc["jwks_uri"] != "https://sb.example:8443/calling/keys" {
		t.Errorf("oidc %v", oidc)
	}
	if algs, _ := oidc["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
		t.Errorf("algs %v", oidc["id_token_signing_alg_values_supported"])
	}

	tests := []struct {
		h      http.Handler
		method string
		status int
		body   []byte
	}{
		{s.JWKSHandler(), http.MethodGet, 200, s.JWKS()},
		{s.JWKSHandler(), http.MethodHead, 200, nil},
		{s.JWKSHandler(), http.MethodPost, 405, nil},
		{s.OpenIDConfigurationHandler("https://sb.example:8443"), http.MethodGet, 200, s.OpenIDConfiguration("https://sb.example:8443")},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		tc.h.ServeHTTP(w, httptest.NewRequest(tc.method, "/x", nil))
		if w.Code != tc.status {
			t.Errorf("%s: status %d", tc.method, w.Code)
		}
		if tc.body != nil && (w.Body.String() != string(tc.body) || w.Header().Get("Content-Type") != "application/json") {
			t.Errorf("%s: body %q ct %q", tc.method, w.Body.String(), w.Header().Get("Content-Type"))
		}
	}
}
