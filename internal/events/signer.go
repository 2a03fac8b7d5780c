package events

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const (
	// TokenLifetime is the lifetime of a callback token (WIRE.md §8: 5 min).
	TokenLifetime = 5 * time.Minute
	// tokenMinRemaining: a cached token is reused while it has more than this
	// left, so a receiver with a little clock skew still accepts it.
	tokenMinRemaining = time.Minute
	// maxCachedAudiences bounds the token cache; a server has one audience in
	// practice.
	maxCachedAudiences = 64
)

// Signer signs the bearer JWTs (RS256) that accompany every delivery and
// publishes the public key as a JWKS. It is safe for concurrent use.
type Signer struct {
	key    *rsa.PrivateKey
	kid    string
	issuer string
	log    *slog.Logger
	now    func() time.Time
	jwks   []byte

	mu    sync.Mutex
	cache map[string]cachedToken
}

type cachedToken struct {
	token string
	exp   time.Time
}

// SignerOption configures a Signer.
type SignerOption func(*Signer)

// WithSignerClock sets the clock used for iat, nbf, exp and token reuse.
func WithSignerClock(now func() time.Time) SignerOption {
	return func(s *Signer) {
		if now != nil {
			s.now = now
		}
	}
}

// NewSigner returns a Signer for key (RSA, at least 2048 bits) whose tokens
// carry iss = issuer.
func NewSigner(key *rsa.PrivateKey, issuer string, log *slog.Logger, opts ...SignerOption) (*Signer, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil signing key", ErrInvalid)
	}
	if bits := key.N.BitLen(); bits < 2048 {
		return nil, fmt.Errorf("%w: RSA key has %d bits, need at least 2048", ErrInvalid, bits)
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("%w: RSA key: %v", ErrInvalid, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Signer{
		key:    key,
		kid:    jwkThumbprint(&key.PublicKey),
		issuer: issuer,
		log:    log,
		now:    time.Now,
		cache:  make(map[string]cachedToken),
	}
	for _, o := range opts {
		o(s)
	}
	s.jwks = s.renderJWKS()
	return s, nil
}

// KeyID is the "kid" of the signing key: its RFC 7638 JWK thumbprint
// (SHA-256, base64url without padding).
func (s *Signer) KeyID() string { return s.kid }

// Issuer is the "iss" of every token.
func (s *Signer) Issuer() string { return s.issuer }

// PublicKey is the verification key.
func (s *Signer) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// Token returns a bearer token for audience, valid for TokenLifetime. A token
// is reused for the same audience while it has more than one minute left, so
// the server does not RSA-sign every event. An empty audience omits "aud".
func (s *Signer) Token(audience string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if c, ok := s.cache[audience]; ok && c.exp.Sub(now) > tokenMinRemaining {
		return c.token, nil
	}
	tok, exp, err := s.sign(now, audience, TokenLifetime)
	if err != nil {
		return "", err
	}
	if len(s.cache) >= maxCachedAudiences {
		clear(s.cache)
	}
	s.cache[audience] = cachedToken{token: tok, exp: exp}
	return tok, nil
}

// Mint signs a fresh token for audience with the given lifetime, never cached
// (WebSocket connections get one per connection, lifetime 24 h, WIRE.md §8).
func (s *Signer) Mint(audience string, lifetime time.Duration) (string, error) {
	if lifetime <= 0 {
		return "", fmt.Errorf("%w: token lifetime %v", ErrInvalid, lifetime)
	}
	tok, _, err := s.sign(s.now(), audience, lifetime)
	return tok, err
}

func (s *Signer) sign(now time.Time, audience string, lifetime time.Duration) (string, time.Time, error) {
	now = now.Truncate(time.Second)
	exp := now.Add(lifetime)
	claims := jwt.MapClaims{
		"iss": s.issuer,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": exp.Unix(),
		"jti": uuid.NewString(),
	}
	if audience != "" {
		claims["aud"] = audience
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("events: sign token: %w", err)
	}
	return signed, exp, nil
}

// jwk is one RSA public key in JWK form (RFC 7517).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS returns the key set document served at JWKSPath:
// {"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":…,"n":…,"e":…}]}.
// The returned slice is shared; do not modify it.
func (s *Signer) JWKS() []byte { return s.jwks }

func (s *Signer) renderJWKS() []byte {
	pub := &s.key.PublicKey
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{{
		Kty: "RSA", Use: "sig", Alg: "RS256", Kid: s.kid,
		N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes()),
	}}}
	b, err := json.Marshal(doc)
	if err != nil { // cannot happen: only strings
		panic(err)
	}
	return b
}

// OpenIDConfiguration returns the discovery document served at
// OpenIDConfigurationPath. baseURL is this server's public base URL
// (no trailing slash needed); jwks_uri is baseURL + JWKSPath.
func (s *Signer) OpenIDConfiguration(baseURL string) []byte {
	doc := struct {
		Issuer            string   `json:"issuer"`
		JWKSURI           string   `json:"jwks_uri"`
		ResponseTypes     []string `json:"response_types_supported"`
		SubjectTypes      []string `json:"subject_types_supported"`
		IDTokenSigningAlg []string `json:"id_token_signing_alg_values_supported"`
		ClaimsSupported   []string `json:"claims_supported"`
	}{
		Issuer:            s.issuer,
		JWKSURI:           strings.TrimRight(baseURL, "/") + JWKSPath,
		ResponseTypes:     []string{"id_token"},
		SubjectTypes:      []string{"public"},
		IDTokenSigningAlg: []string{"RS256"},
		ClaimsSupported:   []string{"iss", "aud", "iat", "nbf", "exp", "jti"},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// jwkThumbprint computes the RFC 7638 thumbprint of an RSA public key: the
// SHA-256 of the JSON object with the required members in lexicographic
// order and no whitespace, base64url-encoded without padding.
func jwkThumbprint(pub *rsa.PublicKey) string {
	e := b64(big.NewInt(int64(pub.E)).Bytes())
	n := b64(pub.N.Bytes())
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
