package acs

// Request and response bodies of the call-control operations (swagger
// 2026-03-12). Fields the server does not act on yet are still decoded so
// that they can be validated and echoed.

// CreateCallRequest is the body of POST /calling/callConnections.
type CreateCallRequest struct {
	Targets              []IdentifierModel       `json:"targets"`
	SourceCallerIDNumber *PhoneNumberModel       `json:"sourceCallerIdNumber,omitempty"`
	SourceDisplayName    string                  `json:"sourceDisplayName,omitempty"`
	Source               *CommunicationUserModel `json:"source,omitempty"`
	OperationContext     string                  `json:"operationContext,omitempty"`
	CallbackURI          string                  `json:"callbackUri"`
	CallIntelligence     *CallIntelligence       `json:"callIntelligenceOptions,omitempty"`
	MediaStreaming       map[string]any          `json:"mediaStreamingOptions,omitempty"`
	Transcription        map[string]any          `json:"transcriptionOptions,omitempty"`
	TeamsAppSource       *IdentifierModel        `json:"teamsAppSource,omitempty"`
}

// CallIntelligence is callIntelligenceOptions.
type CallIntelligence struct {
	CognitiveServicesEndpoint string `json:"cognitiveServicesEndpoint,omitempty"`
}

// AnswerCallRequest is the body of POST /calling/callConnections:answer.
type AnswerCallRequest struct {
	IncomingCallContext string                  `json:"incomingCallContext"`
	CallbackURI         string                  `json:"callbackUri"`
	OperationContext    string                  `json:"operationContext,omitempty"`
	CallIntelligence    *CallIntelligence       `json:"callIntelligenceOptions,omitempty"`
	AnsweredBy          *CommunicationUserModel `json:"answeredBy,omitempty"`
	MediaStreaming      map[string]any          `json:"mediaStreamingOptions,omitempty"`
	Transcription       map[string]any          `json:"transcriptionOptions,omitempty"`
}

// RedirectCallRequest is the body of POST /calling/callConnections:redirect.
type RedirectCallRequest struct {
	IncomingCallContext string           `json:"incomingCallContext"`
	Target              *IdentifierModel `json:"target"`
}

// RejectCallRequest is the body of POST /calling/callConnections:reject.
type RejectCallRequest struct {
	IncomingCallContext string `json:"incomingCallContext"`
	CallRejectReason    string `json:"callRejectReason,omitempty"`
}

// Call connection states (CallConnectionStateModel).
const (
	StateUnknown          = "unknown"
	StateConnecting       = "connecting"
	StateConnected        = "connected"
	StateTransferring     = "transferring"
	StateTransferAccepted = "transferAccepted"
	StateDisconnecting    = "disconnecting"
	StateDisconnected     = "disconnected"
)

// CallConnectionProperties is the response of create, answer, connect and get.
type CallConnectionProperties struct {
	CallConnectionID     string                  `json:"callConnectionId"`
	ServerCallID         string                  `json:"serverCallId,omitempty"`
	Targets              []IdentifierModel       `json:"targets,omitempty"`
	CallConnectionState  string                  `json:"callConnectionState"`
	CallbackURI          string                  `json:"callbackUri,omitempty"`
	SourceCallerIDNumber *PhoneNumberModel       `json:"sourceCallerIdNumber,omitempty"`
	SourceDisplayName    string                  `json:"sourceDisplayName,omitempty"`
	Source               *IdentifierModel        `json:"source,omitempty"`
	CorrelationID        string                  `json:"correlationId,omitempty"`
	AnsweredBy           *CommunicationUserModel `json:"answeredBy,omitempty"`
	AnsweredFor          *PhoneNumberModel       `json:"answeredFor,omitempty"`
}

// CallParticipant is one entry of the participant roster.
type CallParticipant struct {
	Identifier IdentifierModel `json:"identifier"`
	IsMuted    bool            `json:"isMuted"`
	IsOnHold   bool            `json:"isOnHold"`
}

// GetParticipantsResponse is one page of GET …/participants.
type GetParticipantsResponse struct {
	Value    []CallParticipant `json:"value"`
	NextLink string            `json:"nextLink,omitempty"`
}

// RejectReasonStatus maps callRejectReason to the SIP status the caller gets.
// ok is false for a reason the API does not know.
func RejectReasonStatus(reason string) (status int, text string, ok bool) {
	switch reason {
	case "", "none":
		return 480, "Temporarily Unavailable", true
	case "busy":
		return 486, "Busy Here", true
	case "forbidden":
		return 403, "Forbidden", true
	}
	return 0, "", false
}

// AddParticipantRequest is the body of …/participants:add.
type AddParticipantRequest struct {
	SourceCallerIDNumber       *PhoneNumberModel     `json:"sourceCallerIdNumber,omitempty"`
	SourceDisplayName          string                `json:"sourceDisplayName,omitempty"`
	ParticipantToAdd           *IdentifierModel      `json:"participantToAdd"`
	InvitationTimeoutInSeconds *int                  `json:"invitationTimeoutInSeconds,omitempty"`
	OperationContext           string                `json:"operationContext,omitempty"`
	OperationCallbackURI       string                `json:"operationCallbackUri,omitempty"`
	CustomCallingContext       *CustomCallingContext `json:"customCallingContext,omitempty"`
}

// AddParticipantResponse is the response of …/participants:add.
type AddParticipantResponse struct {
	Participant      *CallParticipant `json:"participant,omitempty"`
	OperationContext string           `json:"operationContext,omitempty"`
	InvitationID     string           `json:"invitationId,omitempty"`
}

// RemoveParticipantRequest is the body of …/participants:remove.
type RemoveParticipantRequest struct {
	ParticipantToRemove  *IdentifierModel `json:"participantToRemove"`
	OperationContext     string           `json:"operationContext,omitempty"`
	OperationCallbackURI string           `json:"operationCallbackUri,omitempty"`
}

// MuteParticipantsRequest is the body of …/participants:mute.
type MuteParticipantsRequest struct {
	TargetParticipants []IdentifierModel `json:"targetParticipants"`
	OperationContext   string            `json:"operationContext,omitempty"`
}

// CancelAddParticipantRequest is the body of …/participants:cancelAddParticipant.
type CancelAddParticipantRequest struct {
	InvitationID         string `json:"invitationId"`
	OperationContext     string `json:"operationContext,omitempty"`
	OperationCallbackURI string `json:"operationCallbackUri,omitempty"`
}

// OperationContextResult is the body of responses that only echo the context.
type OperationContextResult struct {
	OperationContext string `json:"operationContext,omitempty"`
	InvitationID     string `json:"invitationId,omitempty"`
}

// TransferToParticipantRequest is the body of …:transferToParticipant.
type TransferToParticipantRequest struct {
	TargetParticipant    *IdentifierModel      `json:"targetParticipant"`
	OperationContext     string                `json:"operationContext,omitempty"`
	Transferee           *IdentifierModel      `json:"transferee,omitempty"`
	OperationCallbackURI string                `json:"operationCallbackUri,omitempty"`
	CustomCallingContext *CustomCallingContext `json:"customCallingContext,omitempty"`
	SourceCallerIDNumber *PhoneNumberModel     `json:"sourceCallerIdNumber,omitempty"`
}

// ConnectRequest is the body of POST /calling/callConnections:connect.
type ConnectRequest struct {
	CallLocator      *CallLocator `json:"callLocator"`
	CallbackURI      string       `json:"callbackUri"`
	OperationContext string       `json:"operationContext,omitempty"`
}

// CallLocator names a call by serverCallId, group call id or room id.
type CallLocator struct {
	ServerCallID string `json:"serverCallId,omitempty"`
	GroupCallID  string `json:"groupCallId,omitempty"`
	RoomID       string `json:"roomId,omitempty"`
	Kind         string `json:"kind,omitempty"`
}

// MoveParticipantsRequest is the body of …/participants:moveHere.
type MoveParticipantsRequest struct {
	TargetParticipants   []IdentifierModel `json:"targetParticipants"`
	OperationContext     string            `json:"operationContext,omitempty"`
	OperationCallbackURI string            `json:"operationCallbackUri,omitempty"`
	FromCall             string            `json:"fromCall"`
}

// MoveParticipantsResponse is the response of …/participants:moveHere.
type MoveParticipantsResponse struct {
	Participants     []CallParticipant `json:"participants"`
	OperationContext string            `json:"operationContext,omitempty"`
	FromCall         string            `json:"fromCall,omitempty"`
}
