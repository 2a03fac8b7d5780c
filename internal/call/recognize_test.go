package call

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
)

// connected returns a connected inbound call and its sink.
func connected(t *testing.T) (*Manager, *Call, *fakeSink, string) {
	t.Helper()
	m, sink := newTestManager(t, time.Minute)
	leg, tok := incoming(t, m, sink)
	props, err := m.Answer(context.Background(), AnswerRequest{IncomingCallContext: tok, CallbackURI: "https://app.example/cb"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, acked := leg.state()
	acked(nil)
	eventually(t, "CallConnected", func() bool { _, ok := sink.find(acs.EventCallConnected); return ok })
	c, err := m.byConnection(props.CallConnectionID)
	if err != nil {
		t.Fatal(err)
	}
	return m, c, sink, props.CallConnectionID
}

// press delivers digits from the caller as if their media leg heard them.
func press(c *Call, digits string) {
	for i := 0; i < len(digits); i++ {
		d := digits[i]
		c.post(func() { c.onDTMF(c.parts[0], d) })
	}
}

func TestRecognizeOutcomes(t *testing.T) {
	caller := acs.PhoneNumber("+15550001111")
	cases := []struct {
		name    string
		req     RecognizeRequest
		digits  string
		event   string
		subCode int
		result  string // tones or choice label in the event
	}{
		{"max tones", RecognizeRequest{InputType: "dtmf", MaxTones: 3, InterTone: time.Minute, InitialSilence: time.Minute}, "1234", acs.EventRecognizeCompleted, 8531, "one two three"},
		{"stop tone", RecognizeRequest{InputType: "dtmf", MaxTones: 9, StopTones: []byte{'#'}, InterTone: time.Minute, InitialSilence: time.Minute}, "42#", acs.EventRecognizeCompleted, 8514, "four two pound"},
		{"inter-tone timeout", RecognizeRequest{InputType: "dtmf", MaxTones: 9, InterTone: 50 * time.Millisecond, InitialSilence: time.Minute}, "78", acs.EventRecognizeCompleted, 8532, "seven eight"},
		{"initial silence", RecognizeRequest{InputType: "dtmf", MaxTones: 1, InitialSilence: 50 * time.Millisecond}, "", acs.EventRecognizeFailed, 8510, ""},
		{"choice by tone", RecognizeRequest{InputType: "choices", Choices: []acs.Choice{{Label: "Yes", Tone: "one"}, {Label: "No", Tone: "two"}}, InitialSilence: time.Minute}, "2", acs.EventRecognizeCompleted, 8533, "No"},
		{"incorrect tone", RecognizeRequest{InputType: "choices", Choices: []acs.Choice{{Label: "Yes", Tone: "one"}}, InitialSilence: time.Minute}, "9", acs.EventRecognizeFailed, 8534, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, c, sink, id := connected(t)
			tc.req.Target = caller
			tc.req.OperationContext = tc.name
			if err := m.Recognize(context.Background(), id, tc.req); err != nil {
				t.Fatal(err)
			}
			press(c, tc.digits)
			var ev event
			eventually(t, tc.event, func() bool {
				var ok bool
				ev, ok = sink.find(tc.event)
				return ok
			})
			var base acs.CallEventData
			got := ""
			switch d := ev.data.(type) {
			case acs.RecognizeCompletedData:
				base = d.CallEventData
				if d.DTMFResult != nil {
					got = strings.Join(d.DTMFResult.Tones, " ")
				} else {
					got = d.ChoiceResult.Label
				}
			case acs.CallEventData:
				base = d
			case acs.RecognizeFailedData:
				base = d.CallEventData
			}
			if base.ResultInformation.SubCode != tc.subCode || got != tc.result || base.OperationContext != tc.name {
				t.Fatalf("%s: subCode %d result %q context %q", tc.event, base.ResultInformation.SubCode, got, base.OperationContext)
			}
			// Exactly one terminal event.
			time.Sleep(100 * time.Millisecond)
			n := 0
			for _, e := range sink.callbacks() {
				if strings.HasPrefix(e, "Recognize") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d recognize events", n)
			}
		})
	}
}

// Tones pressed during a prompt that may not be interrupted are ignored; a
// second recognize while one runs is refused.
func TestRecognizeRules(t *testing.T) {
	m, _, _, id := connected(t)
	req := RecognizeRequest{InputType: "dtmf", MaxTones: 1, Target: acs.PhoneNumber("+15550001111"), InitialSilence: time.Minute}
	if err := m.Recognize(context.Background(), id, req); err != nil {
		t.Fatal(err)
	}
	if err := m.Recognize(context.Background(), id, req); err == nil {
		t.Fatal("second recognize accepted")
	}
	if err := m.Recognize(context.Background(), id, RecognizeRequest{InputType: "dtmf", Target: acs.PhoneNumber("+19999999999")}); err == nil {
		t.Fatal("recognize for a stranger accepted")
	}
	if err := m.Recognize(context.Background(), id, RecognizeRequest{InputType: "speech", Target: acs.PhoneNumber("+15550001111")}); err == nil {
		t.Fatal("speech recognize accepted without an engine")
	}
}

// Continuous DTMF numbers every tone and reports a signal that is not a
// tone (a hook flash in SIP INFO) as ToneFailed.
func TestContinuousTones(t *testing.T) {
	m, c, sink, id := connected(t)
	caller := acs.PhoneNumber("+15550001111")
	if err := m.StartContinuousDTMF(context.Background(), id, caller, "cd", ""); err != nil {
		t.Fatal(err)
	}
	press(c, "5?9")
	eventually(t, "three continuous events", func() bool {
		n := 0
		for _, e := range sink.callbacks() {
			if strings.HasPrefix(e, "ContinuousDtmf") {
				n++
			}
		}
		return n == 3
	})
	var got []string
	tones := 0
	sink.mu.Lock()
	for _, e := range sink.events {
		switch d := e.data.(type) {
		case acs.ToneReceivedData:
			got = append(got, d.Tone)
			tones++
			if d.SequenceID != tones {
				t.Errorf("sequenceId %d for tone %d", d.SequenceID, tones)
			}
		case acs.CallEventData:
			if e.typ == acs.EventContinuousToneFailed {
				got = append(got, "failed")
			}
		}
	}
	sink.mu.Unlock()
	if strings.Join(got, ",") != "five,failed,nine" {
		t.Fatalf("continuous events %v", got)
	}
	if err := m.StopContinuousDTMF(context.Background(), id, caller, "cd", ""); err != nil {
		t.Fatal(err)
	}
	if err := m.StopContinuousDTMF(context.Background(), id, caller, "cd", ""); err == nil {
		t.Fatal("stopping twice succeeded")
	}
}
