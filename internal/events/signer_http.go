package events

import (
	"net/http"
	"strconv"
)

const (
	// JWKSPath is where ACS publishes its callback signing keys; the API
	// layer serves JWKSHandler there.
	JWKSPath = "/calling/keys"
	// OpenIDConfigurationPath is where ACS publishes its OpenID configuration;
	// the API layer serves OpenIDConfigurationHandler there.
	OpenIDConfigurationPath = "/calling/.well-known/acsopenidconfiguration"
)

// JWKSHandler serves JWKS() for GET and HEAD.
func (s *Signer) JWKSHandler() http.Handler { return staticJSON(s.JWKS()) }

// OpenIDConfigurationHandler serves OpenIDConfiguration(baseURL) for GET and
// HEAD.
func (s *Signer) OpenIDConfigurationHandler(baseURL string) http.Handler {
	return staticJSON(s.OpenIDConfiguration(baseURL))
}

func staticJSON(body []byte) http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		h.Set("Cache-Control", "public, max-age=3600")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}
