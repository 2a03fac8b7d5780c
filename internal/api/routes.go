package api

import (
	"net/http"
)

// lookup finds the handler of a method and path, or nil.
func (s *Server) lookup(method string, segs []string) handlerFunc {
	if len(segs) >= 2 && segs[0] == "calling" {
		return s.lookupCalling(method, segs[1:])
	}
	if len(segs) >= 3 && segs[0] == "admin" && segs[1] == "v1" {
		return s.lookupAdmin(method, segs[2:])
	}
	return nil
}

func (s *Server) lookupCalling(method string, segs []string) handlerFunc {
	if segs[0] == "recordings" || len(segs) > 1 && segs[0] == "recordings" {
		return notImplemented("recording")
	}
	coll, action := splitAction(segs[0])
	if coll != "callConnections" {
		return nil
	}
	if len(segs) == 1 {
		if method != http.MethodPost {
			return nil
		}
		switch action {
		case "":
			return s.createCall
		case "answer":
			return s.answerCall
		case "redirect":
			return s.redirectCall
		case "reject":
			return s.rejectCall
		case "connect":
			return s.connectCall
		}
		return nil
	}
	rawID, action := splitAction(segs[1])
	id, err := unescape(rawID)
	if err != nil || id == "" {
		return nil
	}
	switch {
	case len(segs) == 2 && action == "":
		switch method {
		case http.MethodGet:
			return s.getCall(id)
		case http.MethodDelete:
			return s.hangUp(id)
		}
	case len(segs) == 2 && method == http.MethodPost:
		switch action {
		case "terminate":
			return s.terminate(id)
		case "play":
			return s.play(id)
		case "cancelAllMediaOperations":
			return s.cancelAllMedia(id)
		case "recognize":
			return s.recognize(id)
		case "startContinuousDtmfRecognition":
			return s.continuousDTMF(id, true)
		case "stopContinuousDtmfRecognition":
			return s.continuousDTMF(id, false)
		case "hold":
			return s.hold(id, true)
		case "unhold":
			return s.hold(id, false)
		case "sendDtmfTones":
			return s.sendDTMF(id)
		case "transferToParticipant":
			return s.transfer(id)
		case "startMediaStreaming", "stopMediaStreaming", "startTranscription",
			"stopTranscription", "updateTranscription":
			return notImplemented(action)
		}
	case len(segs) == 3:
		sub, action := splitAction(segs[2])
		if sub != "participants" {
			return nil
		}
		if action == "" && method == http.MethodGet {
			return s.listParticipants(id)
		}
		if method == http.MethodPost {
			switch action {
			case "add":
				return s.addParticipant(id)
			case "remove":
				return s.removeParticipant(id)
			case "mute":
				return s.muteParticipants(id)
			case "cancelAddParticipant":
				return s.cancelAddParticipant(id)
			case "moveHere":
				return s.moveParticipants(id)
			}
		}
	case len(segs) == 4 && segs[2] == "participants" && method == http.MethodGet:
		raw, err := unescape(segs[3])
		if err != nil {
			return nil
		}
		return s.getParticipant(id, raw)
	}
	return nil
}

func (s *Server) lookupAdmin(method string, segs []string) handlerFunc {
	var arg string
	if len(segs) == 2 {
		a, err := unescape(segs[1])
		if err != nil {
			return nil
		}
		arg = a
	} else if len(segs) != 1 {
		return nil
	}
	switch segs[0] {
	case "eventSubscriptions":
		switch {
		case arg == "" && method == http.MethodGet:
			return s.listSubscriptions
		case arg == "" && method == http.MethodPost:
			return s.createSubscription
		case arg != "" && method == http.MethodGet:
			return s.getSubscription(arg)
		case arg != "" && method == http.MethodDelete:
			return s.deleteSubscription(arg)
		}
	case "users":
		switch {
		case arg == "" && method == http.MethodGet:
			return s.listUsers
		case arg == "" && method == http.MethodPost:
			return s.createUser
		case arg != "" && method == http.MethodGet:
			return s.getUser(arg)
		case arg != "" && method == http.MethodDelete:
			return s.deleteUser(arg)
		}
	case "phoneNumbers":
		switch {
		case arg == "" && method == http.MethodGet:
			return s.listNumbers
		case arg == "" && method == http.MethodPost:
			return s.addNumber
		case arg != "" && method == http.MethodDelete:
			return s.deleteNumber(arg)
		}
	case "callRecords":
		if arg == "" && method == http.MethodGet {
			return s.listCallRecords
		}
	case "status":
		if arg == "" && method == http.MethodGet && s.status != nil {
			return func(*http.Request, []byte) (int, any, error) { return http.StatusOK, s.status(), nil }
		}
	}
	return nil
}
