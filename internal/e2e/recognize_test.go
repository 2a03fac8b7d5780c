package e2e

import (
	"fmt"
	"testing"
	"time"
)

// recognize with maxTonesToCollect 4 collects exactly the digits SIPp
// presses with its stock RFC 4733 captures (whose first packets have
// duration 0).
func TestRecognizeDTMFFromSIPpPcaps(t *testing.T) {
	e := newEnv(t, serverOptions{})
	sipp := startCaller(t, e.sb, "uac_dtmf.xml", nil)
	connID := e.answer(e.incomingCall("4:"+caller), "dtmf")
	e.callback(connID, "CallConnected")
	st, b := e.sb.do("POST", "/calling/callConnections/"+connID+":recognize"+v, []byte(`{"recognizeInputType":"dtmf",`+
		`"recognizeOptions":{"targetParticipant":{"rawId":"4:`+caller+`","phoneNumber":{"value":"`+caller+`"}},"initialSilenceTimeoutInSeconds":10,`+
		`"dtmfOptions":{"interToneTimeoutInSeconds":5,"maxTonesToCollect":4,"stopTones":["pound"]}},"operationContext":"pin"}`), nil)
	if st != 202 {
		t.Fatalf("recognize: %d %s", st, b)
	}
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
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// A caller who presses nothing gets RecognizeFailed with 8510.
func TestRecognizeInitialSilence(t *testing.T) {
	e := newEnv(t, serverOptions{})
	sipp := startCaller(t, e.sb, "uac_call.xml", nil)
	connID := e.answer(e.incomingCall("4:"+caller), "silence")
	e.callback(connID, "CallConnected")
	st, b := e.sb.do("POST", "/calling/callConnections/"+connID+":recognize"+v, []byte(`{"recognizeInputType":"dtmf",`+
		`"recognizeOptions":{"targetParticipant":{"rawId":"4:`+caller+`"},"initialSilenceTimeoutInSeconds":1,"dtmfOptions":{"maxTonesToCollect":1}}}`), nil)
	if st != 202 {
		t.Fatalf("recognize: %d %s", st, b)
	}
	ev := e.callback(connID, "RecognizeFailed")
	if ri, _ := ev.Data()["resultInformation"].(map[string]any); ri["subCode"] != float64(8510) {
		t.Fatalf("RecognizeFailed = %v", ev.Data())
	}
	// An unknown participant is refused at once.
	st, b = e.sb.do("POST", "/calling/callConnections/"+connID+":recognize"+v, []byte(`{"recognizeInputType":"dtmf",`+
		`"recognizeOptions":{"targetParticipant":{"rawId":"4:+19999999999"}}}`), nil)
	if st != 400 {
		t.Fatalf("recognize for a stranger: %d %s", st, b)
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}
