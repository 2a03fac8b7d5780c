package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/config"
	"github.com/switchboard-oss/switchboard/internal/events"
	"github.com/switchboard-oss/switchboard/internal/store"
)

// The administration API (/admin/v1) manages what the ACS API has no
// operation for: event subscriptions, communication users, owned numbers and
// call records. It uses the same HMAC authentication and error shape.

// list wraps a collection in {"value": [...]} like the ACS list shapes.
type list[T any] struct {
	Value []T `json:"value"`
}

func adminError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, events.ErrNotFound):
		return acs.NotFound("%v", err)
	case errors.Is(err, store.ErrExists), errors.Is(err, events.ErrConflict):
		return acs.Errorf(http.StatusConflict, "Conflict", 0, "%v", err)
	case errors.Is(err, events.ErrInvalid), errors.Is(err, events.ErrBadValidationCode):
		return acs.BadRequest("%v", err)
	}
	return err
}

type subscriptionRequest struct {
	Name        string   `json:"name"`
	EndpointURL string   `json:"endpointUrl"`
	EventTypes  []string `json:"eventTypes"`
	To          []string `json:"to"`
}

func (s *Server) createSubscription(r *http.Request, body []byte) (int, any, error) {
	var req subscriptionRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if err := checkCallback("endpointUrl", req.EndpointURL); err != nil {
		return 0, nil, err
	}
	sub, err := s.subs.Create(r.Context(), events.Subscription{Name: req.Name, EndpointURL: req.EndpointURL, EventTypes: req.EventTypes, To: req.To})
	if err != nil {
		return 0, nil, adminError(err)
	}
	return http.StatusCreated, sub, nil
}

func (s *Server) listSubscriptions(r *http.Request, _ []byte) (int, any, error) {
	subs, err := s.subs.List(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list[events.Subscription]{Value: subs}, nil
}

func (s *Server) getSubscription(id string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		sub, err := s.subs.Get(r.Context(), id)
		if err != nil {
			return 0, nil, adminError(err)
		}
		return http.StatusOK, sub, nil
	}
}

func (s *Server) deleteSubscription(id string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		if err := s.subs.Delete(r.Context(), id); err != nil {
			return 0, nil, adminError(err)
		}
		return http.StatusNoContent, nil, nil
	}
}

// validateSubscription is the validationUrl of the Event Grid handshake.
func (s *Server) validateSubscription(r *http.Request, _ []byte) (int, any, error) {
	segs, _ := segments(r.URL.EscapedPath()) // admin v1 eventSubscriptions {id} validate
	if len(segs) != 5 {
		return 0, nil, acs.NotFound("no such subscription")
	}
	id, err := unescape(segs[3])
	if err != nil {
		return 0, nil, acs.BadRequest("malformed subscription id")
	}
	if err := s.subs.ConfirmByURL(r.Context(), id, r.URL.Query().Get("code")); err != nil {
		return 0, nil, adminError(err)
	}
	return http.StatusOK, map[string]string{"status": "validated"}, nil
}

type userRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
}

func (s *Server) createUser(r *http.Request, body []byte) (int, any, error) {
	var req userRequest
	if len(body) > 0 {
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
	}
	u, err := s.store.CreateUser(r.Context(), req.Username, req.DisplayName)
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			return 0, nil, adminError(err)
		}
		return 0, nil, acs.BadRequest("%v", err)
	}
	return http.StatusCreated, u, nil
}

func (s *Server) listUsers(r *http.Request, _ []byte) (int, any, error) {
	users, err := s.store.Users(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list[store.User]{Value: users}, nil
}

func (s *Server) getUser(username string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		if name, ok := s.store.UsernameOf(username); ok {
			username = name // accept the 8:acs: id too
		}
		u, err := s.store.User(r.Context(), username)
		if err != nil {
			return 0, nil, adminError(err)
		}
		u.Password = ""
		return http.StatusOK, u, nil
	}
}

func (s *Server) deleteUser(username string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		if name, ok := s.store.UsernameOf(username); ok {
			username = name
		}
		if err := s.store.DeleteUser(r.Context(), username); err != nil {
			return 0, nil, adminError(err)
		}
		return http.StatusNoContent, nil, nil
	}
}

func (s *Server) addNumber(r *http.Request, body []byte) (int, any, error) {
	var req store.PhoneNumber
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if !config.IsE164(req.Number) {
		return 0, nil, acs.BadRequest("number %q is not E.164 (+ and 2-15 digits)", req.Number)
	}
	n, err := s.store.AddNumber(r.Context(), req)
	if err != nil {
		return 0, nil, adminError(err)
	}
	return http.StatusCreated, n, nil
}

func (s *Server) listNumbers(r *http.Request, _ []byte) (int, any, error) {
	ns, err := s.store.Numbers(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list[store.PhoneNumber]{Value: ns}, nil
}

func (s *Server) deleteNumber(number string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		if err := s.store.DeleteNumber(r.Context(), number); err != nil {
			return 0, nil, adminError(err)
		}
		return http.StatusNoContent, nil, nil
	}
}

func (s *Server) listCallRecords(r *http.Request, _ []byte) (int, any, error) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	var before time.Time
	if v := q.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return 0, nil, acs.BadRequest("before must be an RFC 3339 time")
		}
		before = t
	}
	recs, err := s.store.CallRecords(r.Context(), before, limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list[store.CallRecord]{Value: recs}, nil
}
