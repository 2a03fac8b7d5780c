package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/media/dtmf"
	"github.com/switchboard-oss/switchboard/internal/media/g711"
	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// recognize with maxTonesToCollect 4 collects exactly the digits SIPp
// presses with its stock RFC 4733 captures (whose first packets have
// duration 0).
func TestRecognizeDTMFFromSIPpPcaps(t *testing.T) {
	e := newEnv(t, serverOptions{})
	connID, sipp := answeredCallFrom(t, e, "uac_dtmf.xml", "dtmf")
	recognize(t, e, connID, `{"recognizeInputType":"dtmf",`+
		`"recognizeOptions":{"targetParticipant":{"rawId":"4:`+caller+`","phoneNumber":{"value":"`+caller+`"}},"initialSilenceTimeoutInSeconds":10,`+
		`"dtmfOptions":{"interToneTimeoutInSeconds":5,"maxTonesToCollect":4,"stopTones":["pound"]}},"operationContext":"pin"}`)
	ev := e.callback(connID, "RecognizeCompleted")
	d := ev.Data()
	ri, _ := d["resultInformation"].(map[string]any)
	if got := fmt.Sprint(d["dtmfResult"]); got != "map[tones:[one two three four]]" || ri["subCode"] != float64(8531) || d["recognitionType"] != "dtmf" || ev.OperationContext() != "pin" {
		t.Fatalf("RecognizeCompleted = %v", d)
	}
	// The SDK parsed it with the tones as its own type.
	if !contains(string(ev.Parsed), "four") {
		t.Fatalf("parsed = %s", ev.Parsed)
	}
	digitsSent(t, sipp)
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// A caller who presses nothing gets RecognizeFailed with 8510.
func TestRecognizeInitialSilence(t *testing.T) {
	e := newEnv(t, serverOptions{})
	connID, sipp := answeredCallFrom(t, e, "uac_call.xml", "silence")
	recognize(t, e, connID, `{"recognizeInputType":"dtmf",`+
		`"recognizeOptions":{"targetParticipant":{"rawId":"4:`+caller+`"},"initialSilenceTimeoutInSeconds":1,"dtmfOptions":{"maxTonesToCollect":1}}}`)
	ev := e.callback(connID, "RecognizeFailed")
	if ri, _ := ev.Data()["resultInformation"].(map[string]any); ri["subCode"] != float64(8510) {
		t.Fatalf("RecognizeFailed = %v", ev.Data())
	}
	// An unknown participant is refused at once.
	st, b := e.sb.do("POST", "/calling/callConnections/"+connID+":recognize"+v, []byte(`{"recognizeInputType":"dtmf",`+
		`"recognizeOptions":{"targetParticipant":{"rawId":"4:+19999999999"}}}`), nil)
	if st != 400 {
		t.Fatalf("recognize for a stranger: %d %s", st, b)
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// Continuous DTMF reports every digit once, in order, with increasing
// sequence ids, whether it came as RFC 4733 or SIP INFO; stopping it says so.
func TestContinuousDTMF(t *testing.T) {
	e := newEnv(t, serverOptions{})
	connID, sipp := answeredCallFrom(t, e, "uac_dtmf.xml", "cdtmf")
	st, b := e.sb.do("POST", "/calling/callConnections/"+connID+":startContinuousDtmfRecognition"+v,
		[]byte(`{"targetParticipant":{"rawId":"4:`+caller+`","phoneNumber":{"value":"`+caller+`"}},"operationContext":"cd"}`), nil)
	if st != 200 {
		t.Fatalf("start: %d %s", st, b)
	}
	var got []string
	waitFor(t, "five tones", 20*time.Second, func() bool {
		got = got[:0]
		for _, ev := range e.callbacks(connID) {
			if ev.ParsedKind == "ContinuousDtmfRecognitionToneReceived" {
				got = append(got, fmt.Sprintf("%v:%v", ev.Data()["sequenceId"], ev.Data()["tone"]))
			}
		}
		return len(got) >= 5
	})
	// Four RFC 4733 events and a SIP INFO.
	if fmt.Sprint(got) != "[1:one 2:two 3:three 4:four 5:pound]" {
		t.Fatalf("tones %v", got)
	}
	st, b = e.sb.do("POST", "/calling/callConnections/"+connID+":stopContinuousDtmfRecognition"+v,
		[]byte(`{"targetParticipant":{"rawId":"4:`+caller+`"},"operationContext":"cd"}`), nil)
	if st != 200 {
		t.Fatalf("stop: %d %s", st, b)
	}
	e.callback(connID, "ContinuousDtmfRecognitionStopped")
	digitsSent(t, sipp)
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// Hold and unhold show in ParticipantsUpdated; music on hold that cannot be
// fetched gives HoldFailed.
func TestHoldUnhold(t *testing.T) {
	e := newEnv(t, serverOptions{})
	connID, sipp := answeredCall(t, e, "hold")
	e.op("hold", map[string]any{"callConnectionId": connID, "rawId": "4:" + caller}, nil)
	waitFor(t, "isOnHold true", 20*time.Second, func() bool {
		for _, ev := range e.callbacks(connID) {
			if ev.ParsedKind == "ParticipantsUpdated" && contains(mustJSON(ev.Data()["participants"]), `"isOnHold":true`) {
				return true
			}
		}
		return false
	})
	var parts struct {
		Participants []map[string]any `json:"participants"`
	}
	e.op("listParticipants", map[string]any{"callConnectionId": connID}, &parts)
	if len(parts.Participants) != 1 || parts.Participants[0]["isOnHold"] != true {
		t.Fatalf("participants while held = %v", parts.Participants)
	}
	e.op("unhold", map[string]any{"callConnectionId": connID, "rawId": "4:" + caller}, nil)
	e.op("listParticipants", map[string]any{"callConnectionId": connID}, &parts)
	if parts.Participants[0]["isOnHold"] != false {
		t.Fatalf("participants after unhold = %v", parts.Participants)
	}
	st, b := e.sb.do("POST", "/calling/callConnections/"+connID+":hold"+v, []byte(`{"targetParticipant":{"rawId":"4:`+caller+`"},`+
		`"playSourceInfo":{"kind":"file","file":{"uri":"http://127.0.0.1:9/moh.wav"}},"operationContext":"moh"}`), nil)
	if st != 200 {
		t.Fatalf("hold: %d %s", st, b)
	}
	ev := e.callback(connID, "HoldFailed")
	if ev.OperationContext() != "moh" {
		t.Fatalf("HoldFailed = %v", ev.Data())
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// A caller whose phone did not offer telephone-event sends its digits as
// tones in the G.711 audio; the server hears them in-band. The stop tone
// ends the recognition.
func TestRecognizeInbandDTMF(t *testing.T) {
	e := newEnv(t, serverOptions{})
	pcm := dtmf.GenerateSequence("12#", 100*time.Millisecond, 100*time.Millisecond)
	ulaw := make([]byte, len(pcm))
	g711.EncodeUlawFrame(ulaw, pcm)
	sipp := testpeer.RunSIPp(t, testpeer.SIPpOptions{Scenario: "uac_inband.xml", Remote: e.sb.sipAddr(), Service: ownedNumber,
		Vars: map[string]string{"caller": caller}, LocalIP: "127.0.0.2", Timeout: 40 * time.Second, Files: map[string][]byte{"inband.raw": ulaw}})
	connID := e.answer(e.incomingCall("4:"+caller), "inband")
	e.callback(connID, "CallConnected")
	recognize(t, e, connID, `{"recognizeInputType":"dtmf",`+
		`"recognizeOptions":{"targetParticipant":{"rawId":"4:`+caller+`"},"initialSilenceTimeoutInSeconds":10,`+
		`"dtmfOptions":{"maxTonesToCollect":4,"stopTones":["pound"]}}}`)
	ev := e.callback(connID, "RecognizeCompleted")
	ri, _ := ev.Data()["resultInformation"].(map[string]any)
	if got := fmt.Sprint(ev.Data()["dtmfResult"]); got != "map[tones:[one two pound]]" || ri["subCode"] != float64(8514) {
		t.Fatalf("RecognizeCompleted = %v", ev.Data())
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// With interruptPrompt, the first digit stops a long prompt and counts; the
// digits pressed during it are collected.
func TestRecognizeInterruptsPrompt(t *testing.T) {
	long := testpeer.ToneWAV(440, 20.0).Encode()
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(long) }))
	defer files.Close()
	e := newEnv(t, serverOptions{})
	connID, sipp := answeredCallFrom(t, e, "uac_dtmf.xml", "barge")
	recognize(t, e, connID, `{"recognizeInputType":"dtmf",`+
		`"playPrompt":{"kind":"file","file":{"uri":"`+files.URL+`/menu.wav"}},`+
		`"recognizeOptions":{"interruptPrompt":true,"targetParticipant":{"rawId":"4:`+caller+`"},"initialSilenceTimeoutInSeconds":5,`+
		`"dtmfOptions":{"maxTonesToCollect":4}}}`)
	ev := e.callback(connID, "RecognizeCompleted")
	if got := fmt.Sprint(ev.Data()["dtmfResult"]); got != "map[tones:[one two three four]]" {
		t.Fatalf("RecognizeCompleted = %v", ev.Data())
	}
	digitsSent(t, sipp)
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// A choices recognize is answered by a choice's tone.
func TestRecognizeChoiceByTone(t *testing.T) {
	e := newEnv(t, serverOptions{})
	connID, sipp := answeredCallFrom(t, e, "uac_dtmf.xml", "choice")
	recognize(t, e, connID, `{"recognizeInputType":"choices",`+
		`"recognizeOptions":{"targetParticipant":{"rawId":"4:`+caller+`"},"initialSilenceTimeoutInSeconds":10,`+
		`"choices":[{"label":"Sales","phrases":["sales"],"tone":"one"},{"label":"Support","phrases":["support"],"tone":"two"}]}}`)
	ev := e.callback(connID, "RecognizeCompleted")
	d := ev.Data()
	if cr, _ := d["choiceResult"].(map[string]any); d["recognitionType"] != "choices" || cr["label"] != "Sales" {
		t.Fatalf("RecognizeCompleted = %v", d)
	}
	digitsSent(t, sipp)
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// digitsSent waits until uac_dtmf.xml has sent all its digits: SIPp takes a
// BYE only after that.
func digitsSent(t *testing.T, sipp *testpeer.SIPpRun) {
	if _, err := sipp.WaitLog(ctxTimeout(t, 15*time.Second), "DIGITS_SENT"); err != nil {
		t.Fatal(err)
	}
}

// recognize starts a recognize operation with a raw ACS request body.
func recognize(t *testing.T, e *env, connID, body string) {
	t.Helper()
	if st, b := e.sb.do("POST", "/calling/callConnections/"+connID+":recognize"+v, []byte(body), nil); st != 202 {
		t.Fatalf("recognize: %d %s", st, b)
	}
}
