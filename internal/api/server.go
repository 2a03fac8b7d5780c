package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/auth"
	"github.com/switchboard-oss/switchboard/internal/call"
	"github.com/switchboard-oss/switchboard/internal/events"
	"github.com/switchboard-oss/switchboard/internal/store"
)

// APIVersions are the api-version values the official SDKs send (stable
// releases from 1.0.0 to 1.6.0, and the previews of the beta SDKs).
var APIVersions = map[string]bool{
	"2023-03-06": true, "2023-10-15": true, "2024-04-15": true, "2024-09-15": true,
	"2025-05-15": true, "2025-06-15": true, "2026-03-12": true,
	"2023-01-15-preview": true, "2023-06-15-preview": true, "2023-10-03-preview": true,
	"2024-01-22-preview": true, "2024-06-15-preview": true, "2024-09-01-preview": true,
	"2025-05-15-preview": true, "2025-08-15-preview": true,
}

// Server serves the REST API.
type Server struct {
	log       *slog.Logger
	calls     *call.Manager
	verifier  *auth.Verifier
	subs      *events.Subscriptions
	signer    *events.Signer
	store     *store.Store
	publicURL string
	pageSize  int
	status    func() any
	idem      *idempotency
}

// Deps are the API's collaborators.
type Deps struct {
	Log           *slog.Logger
	Calls         *call.Manager
	Verifier      *auth.Verifier
	Subscriptions *events.Subscriptions
	Signer        *events.Signer
	Store         *store.Store
	// PublicURL is the base URL apps use (for nextLink).
	PublicURL string
	// PageSize is the number of participants per page (default 100).
	PageSize int
	// Status reports the server's vital counts for GET /admin/v1/status.
	Status func() any
}

// New returns the API server.
func New(d Deps) *Server {
	if d.PageSize <= 0 {
		d.PageSize = 100
	}
	return &Server{
		log: d.Log, calls: d.Calls, verifier: d.Verifier, subs: d.Subscriptions, signer: d.Signer, store: d.Store,
		publicURL: strings.TrimSuffix(d.PublicURL, "/"), pageSize: d.PageSize, status: d.Status,
		idem: newIdempotency(15*time.Minute, 100000, time.Now),
	}
}

// handlerFunc handles one operation: it gets the verified raw body and
// returns the success status and a body to encode as JSON (nil: none).
type handlerFunc func(r *http.Request, body []byte) (int, any, error)

// Handler returns the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler {
	authed := s.verifier.Middleware(http.HandlerFunc(s.route), func(w http.ResponseWriter, r *http.Request, err error) {
		s.log.Info("request refused: authentication", "method", r.Method, "path", r.URL.Path, "error", err)
		status := auth.StatusCode(err)
		code := "Unauthorized"
		if status == http.StatusRequestEntityTooLarge {
			code = "RequestEntityTooLarge"
		}
		writeError(w, &acs.Error{Status: status, Code: code, Message: err.Error()})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status":"ok"}`))
		case r.URL.Path == "/calling/keys" && r.Method == http.MethodGet:
			s.signer.JWKSHandler().ServeHTTP(w, r)
		case r.URL.Path == "/calling/.well-known/acsopenidconfiguration" || r.URL.Path == "/.well-known/openid-configuration":
			s.signer.OpenIDConfigurationHandler(s.publicURL).ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/admin/v1/eventSubscriptions/") && strings.HasSuffix(r.URL.Path, "/validate") && r.Method == http.MethodGet:
			// The validation URL is called by the subscriber; its code is the secret.
			s.serve(w, r, nil, s.validateSubscription)
		default:
			authed.ServeHTTP(w, r)
		}
	})
}

// route dispatches an authenticated request. ACS paths put actions after a
// colon in the last segment (/calling/callConnections/{id}:play), which
// pattern routers mistake for parameters, so routing splits segments itself.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body) // already read and bounded by the auth middleware
	segs, err := segments(r.URL.EscapedPath())
	if err != nil {
		writeError(w, acs.BadRequest("malformed path: %v", err))
		return
	}
	if len(segs) > 0 && segs[0] == "calling" {
		v := r.URL.Query().Get("api-version")
		if v == "" {
			writeError(w, acs.Errorf(http.StatusBadRequest, "MissingApiVersionParameter", 0, "The api-version query parameter is required."))
			return
		}
		if !APIVersions[v] {
			writeError(w, acs.Errorf(http.StatusBadRequest, "UnsupportedApiVersion", 0, "The api-version %q is not supported.", v))
			return
		}
	}
	h := s.lookup(r.Method, segs)
	if h == nil {
		writeError(w, acs.Errorf(http.StatusNotFound, "NotFound", 8522, "No operation %s %s.", r.Method, r.URL.Path))
		return
	}
	s.serve(w, r, body, h)
}

// serve runs h, honouring Repeatability-Request-ID on POSTs.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte, h handlerFunc) {
	key := r.Header.Get("Repeatability-Request-ID")
	if key == "" || r.Method != http.MethodPost {
		status, header, out := s.run(r, body, h)
		writeRaw(w, status, header, out)
		return
	}
	key = r.Method + " " + r.URL.Path + " " + key
	e, first := s.idem.begin(key)
	if !first {
		select {
		case <-e.done:
		case <-r.Context().Done():
			return
		}
		s.log.Info("repeated request answered from its first result", "path", r.URL.Path)
		h := e.header.Clone()
		h.Set("Repeatability-Result", "accepted")
		writeRaw(w, e.status, h, e.body)
		return
	}
	status, header, out := s.run(r, body, h)
	header.Set("Repeatability-Result", "accepted")
	s.idem.finish(key, e, status, header, out)
	writeRaw(w, status, header, out)
}

// run calls h and renders its result or error.
func (s *Server) run(r *http.Request, body []byte, h handlerFunc) (int, http.Header, []byte) {
	header := http.Header{}
	if id := r.Header.Get("x-ms-client-request-id"); id != "" {
		header.Set("x-ms-client-request-id", id)
	}
	status, v, err := h(r, body)
	if err != nil {
		e := acs.AsError(err)
		if e.Status >= 500 {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		} else {
			s.log.Info("request refused", "method", r.Method, "path", r.URL.Path, "status", e.Status, "error", e.Message)
		}
		if e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests {
			header.Set("Retry-After", "1")
		}
		header.Set("x-ms-error-code", e.Code)
		b, _ := json.Marshal(acs.ErrorResponse{Error: acs.ErrorBody{Code: e.Code, Message: e.Message}})
		header.Set("Content-Type", "application/json; charset=utf-8")
		return e.Status, header, b
	}
	if v == nil {
		return status, header, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return http.StatusInternalServerError, header, nil
	}
	header.Set("Content-Type", "application/json; charset=utf-8")
	return status, header, b
}

func writeRaw(w http.ResponseWriter, status int, header http.Header, body []byte) {
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	w.Write(body)
}

func writeError(w http.ResponseWriter, e *acs.Error) {
	b, _ := json.Marshal(acs.ErrorResponse{Error: acs.ErrorBody{Code: e.Code, Message: e.Message}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	w.Write(b)
}

// segments splits an escaped path into unescaped segments; an action after
// a colon stays attached (callConnections:answer, {id}:play). Escaped colons
// in identifiers (%3A) are unescaped only after the split.
func segments(escaped string) ([]string, error) {
	parts := strings.Split(strings.Trim(escaped, "/"), "/")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p == "" {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// unescape decodes one path segment.
func unescape(seg string) (string, error) { return url.PathUnescape(seg) }

// splitAction splits "id:action" (escaped form) into id and action.
func splitAction(seg string) (id, action string) {
	id, action, _ = strings.Cut(seg, ":")
	return id, action
}

// decode parses a JSON body into v with a clear error.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return acs.BadRequest("the request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return acs.BadRequest("the request body is not valid JSON: %v (at offset %d)", se, se.Offset)
		case errors.As(err, &te):
			return acs.BadRequest("field %q must be %s, not %s", te.Field, te.Type, te.Value)
		}
		return acs.BadRequest("the request body is not valid: %v", err)
	}
	return nil
}
