package acs

// Event type names (without the "Microsoft.Communication." prefix).
const (
	EventCallConnected       = "CallConnected"
	EventCallDisconnected    = "CallDisconnected"
	EventCreateCallFailed    = "CreateCallFailed"
	EventAnswerFailed        = "AnswerFailed"
	EventParticipantsUpdated = "ParticipantsUpdated"

	// Event Grid (subscription) events.
	EventIncomingCall       = "IncomingCall"
	EventCallStarted        = "CallStarted"
	EventCallEnded          = "CallEnded"
	EventParticipantAdded   = "CallParticipantAdded"
	EventParticipantRemoved = "CallParticipantRemoved"
)

// EventTypePrefix starts every event type string on the wire.
const EventTypePrefix = "Microsoft.Communication."

// CallEventData holds the fields every mid-call event carries.
type CallEventData struct {
	CallConnectionID  string             `json:"callConnectionId"`
	ServerCallID      string             `json:"serverCallId"`
	CorrelationID     string             `json:"correlationId"`
	OperationContext  string             `json:"operationContext,omitempty"`
	ResultInformation *ResultInformation `json:"resultInformation,omitempty"`
	Version           string             `json:"version,omitempty"`
	PublicEventType   string             `json:"publicEventType,omitempty"`
}

// ParticipantsUpdatedData is the data of ParticipantsUpdated.
type ParticipantsUpdatedData struct {
	CallEventData
	SequenceNumber int               `json:"sequenceNumber"`
	Participants   []CallParticipant `json:"participants"`
}

// CustomCallingContext carries VoIP and SIP headers with a call.
type CustomCallingContext struct {
	VoipHeaders map[string]string `json:"voipHeaders,omitempty"`
	SIPHeaders  map[string]string `json:"sipHeaders,omitempty"`
}

// IncomingCallData is the data of the IncomingCall Event Grid event.
type IncomingCallData struct {
	To                  IdentifierModel       `json:"to"`
	From                IdentifierModel       `json:"from"`
	CallerDisplayName   string                `json:"callerDisplayName,omitempty"`
	ServerCallID        string                `json:"serverCallId"`
	CustomContext       *CustomCallingContext `json:"customContext,omitempty"`
	IncomingCallContext string                `json:"incomingCallContext"`
	OnBehalfOfCallee    *IdentifierModel      `json:"onBehalfOfCallee,omitempty"`
	CorrelationID       string                `json:"correlationId"`
}

// CallLifecycleData is the data of CallStarted and CallEnded (Event Grid).
type CallLifecycleData struct {
	ServerCallID  string          `json:"serverCallId"`
	CorrelationID string          `json:"correlationId"`
	From          IdentifierModel `json:"from"`
	To            IdentifierModel `json:"to"`
	StartTime     string          `json:"startTime,omitempty"`
	EndTime       string          `json:"endTime,omitempty"`
	DurationMs    int64           `json:"durationMs,omitempty"`
	EndReason     string          `json:"endReason,omitempty"`
}

// ParticipantLifecycleData is the data of CallParticipantAdded/Removed.
type ParticipantLifecycleData struct {
	ServerCallID  string          `json:"serverCallId"`
	CorrelationID string          `json:"correlationId"`
	Participant   IdentifierModel `json:"participant"`
	DisplayName   string          `json:"displayName,omitempty"`
}

// Participant operation events.
const (
	EventAddParticipantSucceeded       = "AddParticipantSucceeded"
	EventAddParticipantFailed          = "AddParticipantFailed"
	EventRemoveParticipantSucceeded    = "RemoveParticipantSucceeded"
	EventRemoveParticipantFailed       = "RemoveParticipantFailed"
	EventCancelAddParticipantSucceeded = "CancelAddParticipantSucceeded"
	EventCancelAddParticipantFailed    = "CancelAddParticipantFailed"
)

// ParticipantEventData is the data of Add/RemoveParticipant events; the SDK
// requires participant.
type ParticipantEventData struct {
	CallEventData
	Participant IdentifierModel `json:"participant"`
}

// InvitationEventData is the data of CancelAddParticipant events.
type InvitationEventData struct {
	CallEventData
	InvitationID string `json:"invitationId"`
}

// Transfer events.
const (
	EventCallTransferAccepted = "CallTransferAccepted"
	EventCallTransferFailed   = "CallTransferFailed"
)

// TransferAcceptedData is the data of CallTransferAccepted.
type TransferAcceptedData struct {
	CallEventData
	TransferTarget IdentifierModel `json:"transferTarget"`
	Transferee     IdentifierModel `json:"transferee"`
}

// Move events.
const (
	EventMoveParticipantSucceeded = "MoveParticipantSucceeded"
	EventMoveParticipantFailed    = "MoveParticipantFailed"
)

// MoveEventData is the data of MoveParticipant events.
type MoveEventData struct {
	CallEventData
	Participant IdentifierModel `json:"participant"`
	FromCall    string          `json:"fromCall"`
}
