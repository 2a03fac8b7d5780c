package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/call"
)

func (s *Server) addParticipant(id string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.AddParticipantRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		if req.ParticipantToAdd == nil {
			return 0, nil, acs.BadRequest("participantToAdd is required")
		}
		target, err := req.ParticipantToAdd.Identifier()
		if err != nil {
			return 0, nil, acs.BadRequest("participantToAdd: %v", err)
		}
		ar := call.AddRequest{Target: target, DisplayName: req.SourceDisplayName, OperationContext: req.OperationContext, CallbackURI: req.OperationCallbackURI}
		if v := req.InvitationTimeoutInSeconds; v != nil {
			if *v < 0 || *v > 180 {
				return 0, nil, acs.BadRequest("invitationTimeoutInSeconds must be 0 to 180")
			}
			ar.Timeout = time.Duration(*v) * time.Second
		}
		if req.SourceCallerIDNumber != nil && req.SourceCallerIDNumber.Value != "" {
			ar.CallerID = acs.PhoneNumber(req.SourceCallerIDNumber.Value)
		}
		if ar.Headers, err = customHeaders(req.CustomCallingContext); err != nil {
			return 0, nil, err
		}
		if ar.VoipHeaders, err = voipHeaders(req.CustomCallingContext); err != nil {
			return 0, nil, err
		}
		invID, err := s.calls.AddParticipant(r.Context(), id, ar)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, acs.AddParticipantResponse{
			Participant:      &acs.CallParticipant{Identifier: target.Model()},
			OperationContext: req.OperationContext, InvitationID: invID,
		}, nil
	}
}

func (s *Server) removeParticipant(id string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.RemoveParticipantRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		target, err := participantTarget(req.ParticipantToRemove)
		if err != nil {
			return 0, nil, err
		}
		if err := s.calls.RemoveParticipant(r.Context(), id, target, req.OperationContext, req.OperationCallbackURI); err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, acs.OperationContextResult{OperationContext: req.OperationContext}, nil
	}
}

func (s *Server) muteParticipants(id string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.MuteParticipantsRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		if len(req.TargetParticipants) == 0 {
			return 0, nil, acs.BadRequest("targetParticipants is required")
		}
		var targets []acs.Identifier
		for i := range req.TargetParticipants {
			t, err := req.TargetParticipants[i].Identifier()
			if err != nil {
				return 0, nil, acs.BadRequest("targetParticipants[%d]: %v", i, err)
			}
			targets = append(targets, t)
		}
		if err := s.calls.Mute(r.Context(), id, targets); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, acs.OperationContextResult{OperationContext: req.OperationContext}, nil
	}
}

func (s *Server) cancelAddParticipant(id string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.CancelAddParticipantRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		if req.InvitationID == "" {
			return 0, nil, acs.BadRequest("invitationId is required")
		}
		if err := s.calls.CancelAddParticipant(r.Context(), id, req.InvitationID, req.OperationContext, req.OperationCallbackURI); err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, acs.OperationContextResult{OperationContext: req.OperationContext, InvitationID: req.InvitationID}, nil
	}
}

func (s *Server) transfer(id string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.TransferToParticipantRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		target, err := participantTarget(req.TargetParticipant)
		if err != nil {
			return 0, nil, err
		}
		tr := call.TransferRequest{Target: target, OperationContext: req.OperationContext, CallbackURI: req.OperationCallbackURI}
		if req.Transferee != nil {
			if tr.Transferee, err = req.Transferee.Identifier(); err != nil {
				return 0, nil, acs.BadRequest("transferee: %v", err)
			}
		}
		if req.SourceCallerIDNumber != nil && req.SourceCallerIDNumber.Value != "" {
			tr.CallerID = acs.PhoneNumber(req.SourceCallerIDNumber.Value)
		}
		if tr.Headers, err = customHeaders(req.CustomCallingContext); err != nil {
			return 0, nil, err
		}
		if err := s.calls.Transfer(r.Context(), id, tr); err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, acs.OperationContextResult{OperationContext: req.OperationContext}, nil
	}
}

// customHeaders checks customCallingContext.sipHeaders: User-To-User and
// X- headers only, without line breaks.
func customHeaders(cc *acs.CustomCallingContext) (map[string]string, error) {
	if cc == nil || len(cc.SIPHeaders) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for k, v := range cc.SIPHeaders {
		lk := strings.ToLower(k)
		if lk != "user-to-user" && !strings.HasPrefix(lk, "x-") {
			return nil, acs.BadRequest("customCallingContext.sipHeaders: %q is not User-To-User or an X- header", k)
		}
		if strings.ContainsAny(k+v, "\r\n") {
			return nil, acs.BadRequest("customCallingContext.sipHeaders: %q has a line break", k)
		}
		out[k] = v
	}
	return out, nil
}

// voipHeaders checks customCallingContext.voipHeaders, which reach an
// automated callee's IncomingCall: at most 5, names and values of a sane size.
func voipHeaders(cc *acs.CustomCallingContext) (map[string]string, error) {
	if cc == nil || len(cc.VoipHeaders) == 0 {
		return nil, nil
	}
	if len(cc.VoipHeaders) > 5 {
		return nil, acs.BadRequest("customCallingContext.voipHeaders: at most 5 headers, got %d", len(cc.VoipHeaders))
	}
	for k, v := range cc.VoipHeaders {
		if k == "" || len(k) > 64 || len(v) > 1024 {
			return nil, acs.BadRequest("customCallingContext.voipHeaders: %q: names are 1-64 characters, values at most 1024", k)
		}
	}
	return cc.VoipHeaders, nil
}

func (s *Server) moveParticipants(id string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.MoveParticipantsRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		if req.FromCall == "" {
			return 0, nil, acs.BadRequest("fromCall is required")
		}
		mr := call.MoveRequest{FromCall: req.FromCall, OperationContext: req.OperationContext, CallbackURI: req.OperationCallbackURI}
		for i := range req.TargetParticipants {
			t, err := req.TargetParticipants[i].Identifier()
			if err != nil {
				return 0, nil, acs.BadRequest("targetParticipants[%d]: %v", i, err)
			}
			mr.Targets = append(mr.Targets, t)
		}
		parts, err := s.calls.MoveParticipants(r.Context(), id, mr)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, acs.MoveParticipantsResponse{Participants: parts, OperationContext: req.OperationContext, FromCall: req.FromCall}, nil
	}
}
