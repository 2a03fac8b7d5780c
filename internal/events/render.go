package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// EventTypePrefix is prepended to short event type names ("CallConnected").
const EventTypePrefix = "Microsoft.Communication."

// QualifiedEventType returns t with EventTypePrefix added, unless t already
// names a Microsoft namespace ("Microsoft.Communication.CallConnected",
// "Microsoft.EventGrid.SubscriptionValidationEvent", in any case), in which
// case t is returned unchanged.
func QualifiedEventType(t string) string {
	const ns = "Microsoft."
	if len(t) >= len(ns) && strings.EqualFold(t[:len(ns)], ns) {
		return t
	}
	return EventTypePrefix + t
}

// CallConnectionSource is the CloudEvents source and subject of a mid-call
// event: "calling/callConnections/<callConnectionID>".
func CallConnectionSource(callConnectionID string) string {
	return "calling/callConnections/" + callConnectionID
}

// cloudEvent is the CloudEvents 1.0 envelope ACS uses for callbacks, fields
// in the order ACS writes them (WIRE.md §6.1).
type cloudEvent struct {
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Data            json.RawMessage `json:"data"`
	Time            string          `json:"time"`
	SpecVersion     string          `json:"specversion"`
	DataContentType string          `json:"datacontenttype"`
	Subject         string          `json:"subject"`
}

// eventGridEvent is the Event Grid schema envelope (WIRE.md §7.1).
type eventGridEvent struct {
	ID              string          `json:"id"`
	Topic           string          `json:"topic"`
	Subject         string          `json:"subject"`
	Data            json.RawMessage `json:"data"`
	EventType       string          `json:"eventType"`
	DataVersion     string          `json:"dataVersion"`
	MetadataVersion string          `json:"metadataVersion"`
	EventTime       string          `json:"eventTime"`
}

// CloudEvent renders a mid-call callback event: a JSON array holding one
// CloudEvents 1.0 event whose source and subject are
// CallConnectionSource(callConnectionID) and whose type is
// QualifiedEventType(eventType). data is marshalled as given; the caller puts
// callConnectionId, serverCallId, correlationId, version, resultInformation
// and the like in it. It returns the new event id and the body to send.
func CloudEvent(eventType, callConnectionID string, data any) (id string, body []byte, err error) {
	return renderCloudEvent(time.Now(), eventType, CallConnectionSource(callConnectionID), data)
}

// CloudEventFrom is CloudEvent with an explicit source (also used as the
// subject), for events not tied to a call connection, such as
// RecordingStateChanged ("calling/recordings/<serverCallId>/<recordingId>/RecordingStateChanged").
func CloudEventFrom(eventType, source string, data any) (id string, body []byte, err error) {
	return renderCloudEvent(time.Now(), eventType, source, data)
}

// EventGridEvent renders an Event Grid schema event: a JSON array holding one
// event with the given subject and topic, eventType
// QualifiedEventType(eventType), dataVersion "1.0" and metadataVersion "1".
func EventGridEvent(eventType, subject, topic string, data any) (id string, body []byte, err error) {
	return renderEventGridEvent(time.Now(), eventType, subject, topic, data)
}

func renderCloudEvent(now time.Time, eventType, source string, data any) (string, []byte, error) {
	if eventType == "" {
		return "", nil, fmt.Errorf("%w: empty event type", ErrInvalid)
	}
	raw, err := marshalJSON(data)
	if err != nil {
		return "", nil, fmt.Errorf("events: marshal %s data: %w", eventType, err)
	}
	ev := cloudEvent{
		ID:              uuid.NewString(),
		Source:          source,
		Type:            QualifiedEventType(eventType),
		Data:            raw,
		Time:            formatTime(now),
		SpecVersion:     "1.0",
		DataContentType: "application/json",
		Subject:         source,
	}
	body, err := marshalJSON([]cloudEvent{ev})
	if err != nil {
		return "", nil, fmt.Errorf("events: marshal %s: %w", eventType, err)
	}
	return ev.ID, body, nil
}

func renderEventGridEvent(now time.Time, eventType, subject, topic string, data any) (string, []byte, error) {
	if eventType == "" {
		return "", nil, fmt.Errorf("%w: empty event type", ErrInvalid)
	}
	raw, err := marshalJSON(data)
	if err != nil {
		return "", nil, fmt.Errorf("events: marshal %s data: %w", eventType, err)
	}
	return renderEventGridRaw(now, QualifiedEventType(eventType), subject, topic, "1.0", raw)
}

func renderEventGridRaw(now time.Time, eventType, subject, topic, dataVersion string, data json.RawMessage) (string, []byte, error) {
	ev := eventGridEvent{
		ID:              uuid.NewString(),
		Topic:           topic,
		Subject:         subject,
		Data:            data,
		EventType:       eventType,
		DataVersion:     dataVersion,
		MetadataVersion: "1",
		EventTime:       formatTime(now),
	}
	body, err := marshalJSON([]eventGridEvent{ev})
	if err != nil {
		return "", nil, fmt.Errorf("events: marshal %s: %w", eventType, err)
	}
	return ev.ID, body, nil
}

// validationData is the data of Microsoft.EventGrid.SubscriptionValidationEvent.
type validationData struct {
	ValidationCode string `json:"validationCode"`
	ValidationURL  string `json:"validationUrl"`
}

// renderValidationEvent renders the Event Grid subscription validation event
// (WIRE.md §7.2): subject "", dataVersion "1".
func renderValidationEvent(now time.Time, topic, code, validationURL string) ([]byte, error) {
	raw, err := marshalJSON(validationData{ValidationCode: code, ValidationURL: validationURL})
	if err != nil {
		return nil, err
	}
	_, body, err := renderEventGridRaw(now, "Microsoft.EventGrid.SubscriptionValidationEvent", "", topic, "1", raw)
	return body, err
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// marshalJSON is json.Marshal without HTML escaping, so that values such as
// SIP headers ("a=1&b=<x>") reach the app byte for byte.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
