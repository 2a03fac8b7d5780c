package acs

// ResultInformation is the resultInformation of every event.
type ResultInformation struct {
	Code       int                `json:"code"`
	SubCode    int                `json:"subCode"`
	Message    string             `json:"message"`
	SIPDetails *SIPDiagnosticInfo `json:"sipDetails,omitempty"`
	Q850       *SIPDiagnosticInfo `json:"q850Details,omitempty"`
}

// SIPDiagnosticInfo carries the SIP status of a failed leg.
type SIPDiagnosticInfo struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Result codes used by the call lifecycle events.
var (
	ResultOK = ResultInformation{Code: 200, SubCode: 0, Message: ""}
	// ResultEndedByAPI: the app hung up or terminated the call.
	ResultEndedByAPI = ResultInformation{Code: 200, SubCode: 7000, Message: "Call was ended by Azure Communication Service Call Automation API or a server bot. DiagCode: 0#7000.@"}
	// ResultConversationEnded: the remote party hung up.
	ResultConversationEnded = ResultInformation{Code: 200, SubCode: 560000, Message: "The conversation has ended. DiagCode: 0#560000.@"}
	// ResultMediaTimeout: no media from the peer for too long.
	ResultMediaTimeout = ResultInformation{Code: 500, SubCode: 8513, Message: "Call ended because no media was received from the participant (media receive timeout)."}
	// ResultServerShutdown: the server stopped.
	ResultServerShutdown = ResultInformation{Code: 500, SubCode: 9998, Message: "Call ended because the server is shutting down."}
)

// SIPFailure returns the resultInformation for a call leg that failed with a
// SIP final status (CreateCallFailed, AddParticipantFailed, ...).
func SIPFailure(status int, reason string) ResultInformation {
	ri := ResultInformation{Code: status, SIPDetails: &SIPDiagnosticInfo{Code: status, Message: reason}}
	switch status {
	case 486:
		ri.SubCode, ri.Message = 560486, "Call failed: the callee is busy."
	case 603:
		ri.SubCode, ri.Message = 560603, "Call failed: the callee declined the call."
	case 480:
		ri.SubCode, ri.Message = 10037, "Call failed: the callee is not available."
	case 404:
		ri.SubCode, ri.Message = 560404, "Call failed: the callee was not found."
	case 487:
		ri.SubCode, ri.Message = 10004, "Call failed: the callee did not answer in time."
	case 408:
		ri.SubCode, ri.Message = 10057, "Call failed: the callee could not be reached."
	default:
		ri.SubCode, ri.Message = 560000+status, "Call failed: "+reason
	}
	return ri
}
