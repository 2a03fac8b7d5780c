package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// decodeOne parses a one-element JSON array of objects, failing on anything else.
func decodeOne(t *testing.T, body []byte) map[string]json.RawMessage {
	t.Helper()
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal(body, &arr); err != nil {
		t.Fatalf("body is not a JSON array of objects: %v\n%s", err, body)
	}
	if len(arr) != 1 {
		t.Fatalf("array has %d elements", len(arr))
	}
	return arr[0]
}

func str(t *testing.T, m map[string]json.RawMessage, k string) string {
	t.Helper()
	raw, ok := m[k]
	if !ok {
		t.Fatalf("field %q missing", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("field %q is not a string: %s", k, raw)
	}
	return s
}

func checkTime(t *testing.T, s string, before, after time.Time) {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	if !strings.HasSuffix(s, "Z") {
		t.Errorf("time %q is not UTC", s)
	}
	if tm.Before(before.Truncate(time.Microsecond)) || tm.After(after) {
		t.Errorf("time %v not between %v and %v", tm, before, after)
	}
}

func TestCloudEvent(t *testing.T) {
	data := map[string]any{
		"callConnectionId":  "421f0b00-aaaa",
		"serverCallId":      "c2VydmVy",
		"correlationId":     "beb24a9d",
		"version":           "2025-05-15",
		"resultInformation": map[string]any{"code": 200, "subCode": 0, "message": ""},
		"operationContext":  "ctx <&>",
	}
	tests := []struct {
		name      string
		eventType string
		wantType  string
	}{
		{"short", "CallConnected", "Microsoft.Communication.CallConnected"},
		{"qualified", "Microsoft.Communication.PlayCompleted", "Microsoft.Communication.PlayCompleted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			id, body, err := CloudEvent(tc.eventType, "421f0b00-aaaa", data)
			after := time.Now()
			if err != nil {
				t.Fatal(err)
			}
			ev := decodeOne(t, body)
			if len(ev) != 8 {
				t.Errorf("event has %d fields: %s", len(ev), body)
			}
			if got := str(t, ev, "id"); got != id || uuid.Validate(got) != nil {
				t.Errorf("id %q (returned %q)", got, id)
			}
			want := map[string]string{
				"source":          "calling/callConnections/421f0b00-aaaa",
				"subject":         "calling/callConnections/421f0b00-aaaa",
				"type":            tc.wantType,
				"specversion":     "1.0",
				"datacontenttype": "application/json",
			}
			for k, v := range want {
				if got := str(t, ev, k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			checkTime(t, str(t, ev, "time"), before, after)
			var gotData map[string]any
			if err := json.Unmarshal(ev["data"], &gotData); err != nil {
				t.Fatal(err)
			}
			if gotData["operationContext"] != "ctx <&>" || gotData["version"] != "2025-05-15" || len(gotData) != len(data) {
				t.Errorf("data %v", gotData)
			}
			if strings.Contains(string(body), `\u003c`) {
				t.Error("HTML characters escaped")
			}
		})
	}

	id2, body2, err := CloudEventFrom("RecordingStateChanged", "calling/recordings/s/r/RecordingStateChanged", map[string]string{"state": "active"})
	if err != nil {
		t.Fatal(err)
	}
	ev := decodeOne(t, body2)
	if str(t, ev, "source") != "calling/recordings/s/r/RecordingStateChanged" || str(t, ev, "subject") != str(t, ev, "source") || str(t, ev, "id") != id2 {
		t.Errorf("CloudEventFrom: %s", body2)
	}
	if _, _, err := CloudEvent("", "x", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty type: %v", err)
	}
	if _, _, err := CloudEvent("CallConnected", "x", func() {}); err == nil {
		t.Error("unmarshalable data accepted")
	}
}

func TestEventGridEvent(t *testing.T) {
	const topic = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/communicationServices/acs"
	data := map[string]any{
		"to":                  map[string]any{"kind": "phoneNumber", "rawId": "4:+14255550123", "phoneNumber": map[string]string{"value": "+14255550123"}},
		"from":                map[string]any{"kind": "phoneNumber", "rawId": "4:+14255550100"},
		"serverCallId":        "c2VydmVy",
		"incomingCallContext": "eyJ...",
		"correlationId":       "c0ffee",
	}
	before := time.Now()
	id, body, err := EventGridEvent("IncomingCall", "/caller/4:+14255550100/recipient/4:+14255550123", topic, data)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	ev := decodeOne(t, body)
	if len(ev) != 8 {
		t.Errorf("event has %d fields: %s", len(ev), body)
	}
	if got := str(t, ev, "id"); got != id || uuid.Validate(got) != nil {
		t.Errorf("id %q", got)
	}
	want := map[string]string{
		"topic":           topic,
		"subject":         "/caller/4:+14255550100/recipient/4:+14255550123",
		"eventType":       "Microsoft.Communication.IncomingCall",
		"dataVersion":     "1.0",
		"metadataVersion": "1",
	}
	for k, v := range want {
		if got := str(t, ev, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	checkTime(t, str(t, ev, "eventTime"), before, after)
	var gotData struct {
		To struct{ RawID string } `json:"to"`
	}
	if err := json.Unmarshal(ev["data"], &gotData); err != nil || gotData.To.RawID != "4:+14255550123" {
		t.Errorf("data %s", ev["data"])
	}
}

func TestValidationEventShape(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 600, time.UTC)
	body, err := renderValidationEvent(now, "/subscriptions/x", "code-1", "https://sb/admin/v1/eventSubscriptions/id/validate?code=code-1")
	if err != nil {
		t.Fatal(err)
	}
	ev := decodeOne(t, body)
	want := map[string]string{
		"topic": "/subscriptions/x", "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
		"metadataVersion": "1", "dataVersion": "1", "eventTime": "2025-01-02T03:04:05.0000006Z",
	}
	for k, v := range want {
		if got := str(t, ev, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	var d map[string]string
	if err := json.Unmarshal(ev["data"], &d); err != nil || d["validationCode"] != "code-1" ||
		d["validationUrl"] != "https://sb/admin/v1/eventSubscriptions/id/validate?code=code-1" || len(d) != 2 {
		t.Errorf("data %s", ev["data"])
	}
}

func TestQualifiedEventType(t *testing.T) {
	for in, want := range map[string]string{
		"IncomingCall":                                    "Microsoft.Communication.IncomingCall",
		"Microsoft.Communication.CallEnded":               "Microsoft.Communication.CallEnded",
		"Microsoft.EventGrid.SubscriptionValidationEvent": "Microsoft.EventGrid.SubscriptionValidationEvent",
	} {
		if got := QualifiedEventType(in); got != want {
			t.Errorf("QualifiedEventType(%q) = %q", in, got)
		}
	}
}

func BenchmarkCloudEvent(b *testing.B) {
	data := map[string]any{"callConnectionId": "421f0b00", "serverCallId": "c2VydmVy", "correlationId": "beb24a9d",
		"resultInformation": map[string]any{"code": 200, "subCode": 0, "message": ""}}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := CloudEvent("CallConnected", "421f0b00", data); err != nil {
			b.Fatal(err)
		}
	}
}
