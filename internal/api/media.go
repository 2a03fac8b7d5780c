package api

import (
	"net/http"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/call"
)

func (s *Server) play(id string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.PlayRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		if req.OperationCallbackURI != "" {
			if err := checkCallback("operationCallbackUri", req.OperationCallbackURI); err != nil {
				return 0, nil, err
			}
		}
		pr := call.PlayRequest{Sources: req.PlaySources, Interrupt: req.InterruptCallMediaOperation,
			OperationContext: req.OperationContext, CallbackURI: req.OperationCallbackURI}
		if req.PlayOptions != nil {
			pr.Loop = req.PlayOptions.Loop
		}
		for i, m := range req.PlayTo {
			ident, err := m.Identifier()
			if err != nil {
				return 0, nil, acs.BadRequest("playTo[%d]: %v", i, err)
			}
			pr.PlayTo = append(pr.PlayTo, ident)
		}
		if err := s.calls.Play(r.Context(), id, pr); err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, nil, nil
	}
}

func (s *Server) cancelAllMedia(id string) handlerFunc {
	return func(r *http.Request, _ []byte) (int, any, error) {
		if err := s.calls.CancelAllMedia(r.Context(), id); err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, nil, nil
	}
}

// Defaults the SDK applies too (WIRE.md §3.1).
const (
	defaultInitialSilence = 5
	defaultInterTone      = 2
	// defaultEndSilence ends an utterance when speechOptions does not say.
	defaultEndSilence = time.Second
)

func (s *Server) recognize(id string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.RecognizeRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		o := req.RecognizeOptions
		if o == nil || o.TargetParticipant == nil {
			return 0, nil, acs.BadRequest("recognizeOptions.targetParticipant is required")
		}
		target, err := o.TargetParticipant.Identifier()
		if err != nil {
			return 0, nil, acs.BadRequest("recognizeOptions.targetParticipant: %v", err)
		}
		if req.OperationCallbackURI != "" {
			if err := checkCallback("operationCallbackUri", req.OperationCallbackURI); err != nil {
				return 0, nil, err
			}
		}
		rr := call.RecognizeRequest{
			InputType: req.RecognizeInputType, Interrupt: req.InterruptCallMediaOperation, InterruptPrompt: o.InterruptPrompt,
			Target: target, Choices: o.Choices, OperationContext: req.OperationContext, CallbackURI: req.OperationCallbackURI,
			InitialSilence: defaultInitialSilence * time.Second, InterTone: defaultInterTone * time.Second,
		}
		if req.PlayPrompt != nil {
			rr.Prompts = append(rr.Prompts, *req.PlayPrompt)
		}
		rr.Prompts = append(rr.Prompts, req.PlayPrompts...)
		if v := o.InitialSilenceTimeoutInSeconds; v != nil {
			if *v < 0 || *v > 300 {
				return 0, nil, acs.BadRequest("initialSilenceTimeoutInSeconds must be 0 to 300")
			}
			rr.InitialSilence = time.Duration(*v) * time.Second
		}
		if d := o.DTMFOptions; d != nil {
			if v := d.InterToneTimeoutInSeconds; v != nil {
				if *v < 1 || *v > 60 {
					return 0, nil, acs.BadRequest("interToneTimeoutInSeconds must be 1 to 60")
				}
				rr.InterTone = time.Duration(*v) * time.Second
			}
			if v := d.MaxTonesToCollect; v != nil {
				if *v < 1 {
					return 0, nil, acs.BadRequest("maxTonesToCollect must be at least 1")
				}
				rr.MaxTones = *v
			}
			for _, t := range d.StopTones {
				digit, ok := acs.ToneDigit(t)
				if !ok {
					return 0, nil, acs.BadRequest("stopTones: %q is not a tone", t)
				}
				rr.StopTones = append(rr.StopTones, digit)
			}
		}
		rr.SpeechLanguage = o.SpeechLanguage
		rr.EndSilence = defaultEndSilence
		if v, ok := o.SpeechOptions["endSilenceTimeoutInMs"]; ok {
			ms, isNum := v.(float64)
			if !isNum || ms < 1 || ms > 60000 {
				return 0, nil, acs.BadRequest("speechOptions.endSilenceTimeoutInMs must be 1 to 60000")
			}
			rr.EndSilence = time.Duration(ms) * time.Millisecond
		}
		for i, ch := range o.Choices {
			if ch.Label == "" {
				return 0, nil, acs.BadRequest("choices[%d].label is required", i)
			}
			if ch.Tone != "" {
				if _, ok := acs.ToneDigit(ch.Tone); !ok {
					return 0, nil, acs.BadRequest("choices[%d].tone: %q is not a tone", i, ch.Tone)
				}
			}
		}
		if err := s.calls.Recognize(r.Context(), id, rr); err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, nil, nil
	}
}

// participantTarget decodes the targetParticipant of a request body.
func participantTarget(m *acs.IdentifierModel) (acs.Identifier, error) {
	if m == nil {
		return acs.Identifier{}, acs.BadRequest("targetParticipant is required")
	}
	id, err := m.Identifier()
	if err != nil {
		return acs.Identifier{}, acs.BadRequest("targetParticipant: %v", err)
	}
	return id, nil
}

func (s *Server) continuousDTMF(id string, start bool) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.ContinuousDTMFRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		target, err := participantTarget(req.TargetParticipant)
		if err != nil {
			return 0, nil, err
		}
		if start {
			err = s.calls.StartContinuousDTMF(r.Context(), id, target, req.OperationContext, req.OperationCallbackURI)
		} else {
			err = s.calls.StopContinuousDTMF(r.Context(), id, target, req.OperationContext, req.OperationCallbackURI)
		}
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, nil, nil
	}
}

func (s *Server) hold(id string, hold bool) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.HoldRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		target, err := participantTarget(req.TargetParticipant)
		if err != nil {
			return 0, nil, err
		}
		if hold {
			err = s.calls.Hold(r.Context(), id, target, req.PlaySourceInfo, req.OperationContext, req.OperationCallbackURI)
		} else {
			err = s.calls.Unhold(r.Context(), id, target)
		}
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, nil, nil
	}
}

func (s *Server) sendDTMF(id string) handlerFunc {
	return func(r *http.Request, body []byte) (int, any, error) {
		var req acs.SendDTMFRequest
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		target, err := participantTarget(req.TargetParticipant)
		if err != nil {
			return 0, nil, err
		}
		if err := s.calls.SendDTMF(r.Context(), id, target, req.Tones, req.OperationContext, req.OperationCallbackURI); err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, acs.SendDTMFResult{OperationContext: req.OperationContext}, nil
	}
}
