package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/call"
)

func notImplemented(what string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		return 0, nil, acs.Errorf(http.StatusNotImplemented, "NotImplemented", 8520, "%s is not supported by this server yet.", what)
	}
}

func apiVersion(r *http.Request) string { return r.URL.Query().Get("api-version") }

// checkCallback validates a callback URI.
func checkCallback(field, uri string) error {
	if uri == "" {
		return acs.BadRequest("%s is required", field)
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return acs.BadRequest("%s %q is not an http(s) URL", field, uri)
	}
	return nil
}

func (s *Server) createCall(r *http.Request, body []byte) (int, any, error) {
	var req acs.CreateCallRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if len(req.Targets) == 0 {
		return 0, nil, acs.BadRequest("targets is required and must not be empty")
	}
	if len(req.Targets) > 20 {
		return 0, nil, acs.BadRequest("at most 20 targets may be called at once")
	}
	if err := checkCallback("callbackUri", req.CallbackURI); err != nil {
		return 0, nil, err
	}
	cr := call.CreateRequest{DisplayName: req.SourceDisplayName, CallbackURI: req.CallbackURI,
		OperationContext: req.OperationContext, APIVersion: apiVersion(r)}
	phoneTarget := false
	for i := range req.Targets {
		target, err := req.Targets[i].Identifier()
		if err != nil {
			return 0, nil, acs.BadRequest("targets[%d]: %v", i, err)
		}
		phoneTarget = phoneTarget || target.Kind == acs.KindPhoneNumber
		cr.Targets = append(cr.Targets, target)
	}
	if req.SourceCallerIDNumber != nil && req.SourceCallerIDNumber.Value != "" {
		cr.CallerID = acs.PhoneNumber(req.SourceCallerIDNumber.Value)
	}
	if req.Source != nil && req.Source.ID != "" {
		cr.Source = acs.ParseRawID(req.Source.ID)
	}
	if phoneTarget && cr.CallerID.IsZero() {
		return 0, nil, acs.BadRequest("sourceCallerIdNumber is required to call a phone number")
	}
	props, err := s.calls.Create(r.Context(), cr)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, props, nil
}

func (s *Server) answerCall(r *http.Request, body []byte) (int, any, error) {
	var req acs.AnswerCallRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if req.IncomingCallContext == "" {
		return 0, nil, acs.BadRequest("incomingCallContext is required")
	}
	if err := checkCallback("callbackUri", req.CallbackURI); err != nil {
		return 0, nil, err
	}
	ar := call.AnswerRequest{IncomingCallContext: req.IncomingCallContext, CallbackURI: req.CallbackURI,
		OperationContext: req.OperationContext, APIVersion: apiVersion(r)}
	if req.AnsweredBy != nil {
		ar.AnsweredBy = acs.CommunicationUser(req.AnsweredBy.ID)
	}
	props, err := s.calls.Answer(r.Context(), ar)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, props, nil
}

func (s *Server) redirectCall(r *http.Request, body []byte) (int, any, error) {
	var req acs.RedirectCallRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if req.IncomingCallContext == "" {
		return 0, nil, acs.BadRequest("incomingCallContext is required")
	}
	if req.Target == nil {
		return 0, nil, acs.BadRequest("target is required")
	}
	target, err := req.Target.Identifier()
	if err != nil {
		return 0, nil, acs.BadRequest("target: %v", err)
	}
	if err := s.calls.Redirect(r.Context(), req.IncomingCallContext, target); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) rejectCall(r *http.Request, body []byte) (int, any, error) {
	var req acs.RejectCallRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if req.IncomingCallContext == "" {
		return 0, nil, acs.BadRequest("incomingCallContext is required")
	}
	if err := s.calls.Reject(r.Context(), req.IncomingCallContext, req.CallRejectReason); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) getCall(id string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		props, err := s.calls.Properties(r.Context(), id)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, props, nil
	}
}

func (s *Server) hangUp(id string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		if err := s.calls.Hangup(r.Context(), id, false); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, nil
	}
}

func (s *Server) terminate(id string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		if err := s.calls.Hangup(r.Context(), id, true); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, nil
	}
}

// listParticipants returns one page; the page token is a plain offset so
// that the SDK's signature over nextLink's query stays simple ASCII.
func (s *Server) listParticipants(id string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		parts, err := s.calls.Participants(r.Context(), id)
		if err != nil {
			return 0, nil, err
		}
		q := r.URL.Query()
		skip, size := 0, s.pageSize
		if v := q.Get("skip"); v != "" {
			if skip, err = strconv.Atoi(v); err != nil || skip < 0 {
				return 0, nil, acs.BadRequest("skip must be a non-negative integer")
			}
		}
		if v := q.Get("maxPageSize"); v != "" {
			if size, err = strconv.Atoi(v); err != nil || size < 1 {
				return 0, nil, acs.BadRequest("maxPageSize must be a positive integer")
			}
		}
		page, next := paginate(parts, skip, size)
		resp := acs.GetParticipantsResponse{Value: page}
		if next > 0 {
			resp.NextLink = s.baseURL(r) + "/calling/callConnections/" + url.PathEscape(id) + "/participants?api-version=" +
				url.QueryEscape(apiVersion(r)) + "&maxPageSize=" + strconv.Itoa(size) + "&skip=" + strconv.Itoa(next)
		}
		return http.StatusOK, resp, nil
	}
}

// paginate returns the page at skip and the offset of the next page (0: none).
func paginate[T any](all []T, skip, size int) ([]T, int) {
	if skip >= len(all) {
		return []T{}, 0
	}
	end := skip + size
	if end >= len(all) {
		return all[skip:], 0
	}
	return all[skip:end], end
}

func (s *Server) getParticipant(id, rawID string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		p, err := s.calls.Participant(r.Context(), id, rawID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, p, nil
	}
}

// baseURL is the public URL, or the one the request came in on.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.TrimSuffix(r.Host, "/")
}

func (s *Server) connectCall(r *http.Request, body []byte) (int, any, error) {
	var req acs.ConnectRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if req.CallLocator == nil {
		return 0, nil, acs.BadRequest("callLocator is required")
	}
	if err := checkCallback("callbackUri", req.CallbackURI); err != nil {
		return 0, nil, err
	}
	loc := req.CallLocator
	cr := call.ConnectRequest{CallbackURI: req.CallbackURI, OperationContext: req.OperationContext, APIVersion: apiVersion(r)}
	set := 0
	for _, v := range []string{loc.ServerCallID, loc.GroupCallID, loc.RoomID} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return 0, nil, acs.BadRequest("callLocator needs exactly one of serverCallId, groupCallId and roomId")
	}
	switch {
	case loc.ServerCallID != "":
		cr.ServerCallID = loc.ServerCallID
	case loc.GroupCallID != "":
		cr.GroupCallID = loc.GroupCallID
	default:
		cr.RoomID = loc.RoomID
	}
	for _, v := range []string{loc.GroupCallID, loc.RoomID} {
		if len(v) > 256 || strings.ContainsAny(v, "\x00\r\n") {
			return 0, nil, acs.BadRequest("callLocator: the id must be at most 256 characters without control characters")
		}
	}
	props, err := s.calls.Connect(r.Context(), cr)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, props, nil
}
