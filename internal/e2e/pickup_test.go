package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// rejectCall with each reason gives the caller the mapped SIP status.
func TestRejectReasons(t *testing.T) {
	e := newEnv(t, serverOptions{})
	for i, c := range []struct {
		reason string
		status string
	}{{"none", "480"}, {"busy", "486"}, {"forbidden", "403"}} {
		t.Run(c.reason, func(t *testing.T) {
			from := fmt.Sprintf("+1555000220%d", i)
			sipp := startCaller(t, e.sb, "uac_reject.xml", map[string]string{"caller": from, "expected": c.status})
			ic := e.incomingCall("4:" + from)
			e.op("rejectCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "reason": c.reason}, nil)
			sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
			if got, _ := sipp.LogValue("FINAL"); got != c.status {
				t.Fatalf("caller got %s, want %s", got, c.status)
			}
			// The call is over: a second action on it fails clearly.
			oe := e.opError("answerCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "callbackUrl": e.app.CallbackURL("late")})
			if oe.StatusCode != 400 || !strings.Contains(oe.Message, "ended") {
				t.Fatalf("late answer: %d %s", oe.StatusCode, oe.Message)
			}
		})
	}
}

// redirectCall: the server rings the target; when it answers, the caller is
// connected to it, without a connection for the app.
func TestRedirectToTrunkNumber(t *testing.T) {
	uas, o := startCallee(t, "uas_answer.xml", map[string]string{"hangup_after_ms": "1500"})
	e := newEnv(t, o)
	sipp := startCaller(t, e.sb, "uac_call.xml", nil)
	ic := e.incomingCall("4:" + caller)
	e.op("redirectCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "target": "4:" + callee}, nil)

	// The target rang with the original caller's number, and answered.
	if ruri, err := uas.WaitLog(ctxTimeout(t, 10*time.Second), "RURI_USER"); err != nil || ruri != callee {
		t.Fatalf("target Request-URI user %q (%v)", ruri, err)
	}
	if from, _ := uas.LogValue("FROM_USER"); from != caller {
		t.Fatalf("target saw caller %q, want %s", from, caller)
	}
	// The caller got 200 OK; when the target hangs up, the caller gets BYE.
	if _, err := sipp.WaitLog(ctxTimeout(t, 10*time.Second), "ANSWER_PT"); err != nil {
		t.Fatal("caller was not connected")
	}
	if _, err := sipp.WaitLog(ctxTimeout(t, 15*time.Second), "BYE_RECEIVED"); err != nil {
		t.Fatal("caller got no BYE after the target hung up")
	}
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
	uas.WaitSuccess(ctxTimeout(t, 20*time.Second))
	// The app has no connection on that call.
	for _, ev := range e.callbacks("") {
		t.Fatalf("app got a callback for the redirected call: %s", ev.ParsedKind)
	}
	var recs struct {
		Value []map[string]any `json:"value"`
	}
	waitFor(t, "call record", 10*time.Second, func() bool {
		e.sb.adminJSON("GET", "/admin/v1/callRecords", nil, &recs, 200)
		return len(recs.Value) == 1
	})
	if recs.Value[0]["to"] != "4:"+callee || recs.Value[0]["endReason"] != "remote-bye" {
		t.Fatalf("call record = %v", recs.Value[0])
	}
}

// A caller who cancels while ringing makes a late answer fail clearly.
func TestCallerCancelsWhileRinging(t *testing.T) {
	e := newEnv(t, serverOptions{})
	sipp := startCaller(t, e.sb, "uac_cancel.xml", map[string]string{"cancel_after_ms": "300"})
	ic := e.incomingCall("4:" + caller)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
	if final, _ := sipp.LogValue("INVITE_FINAL"); final != "487" {
		t.Fatalf("INVITE final %q, want 487", final)
	}
	oe := e.opError("answerCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "callbackUrl": e.app.CallbackURL("late")})
	if oe.StatusCode != 400 || !strings.Contains(oe.Message, "canceled") {
		t.Fatalf("late answer: %d %q", oe.StatusCode, oe.Message)
	}
}

// Nobody answers: after the ring timeout the caller gets 480.
func TestRingTimeout(t *testing.T) {
	e := newEnv(t, serverOptions{RingTimeout: 2 * time.Second})
	sipp := startCaller(t, e.sb, "uac_reject.xml", map[string]string{"expected": "480"})
	ic := e.incomingCall("4:" + caller)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
	oe := e.opError("answerCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "callbackUrl": e.app.CallbackURL("late")})
	if oe.StatusCode != 400 {
		t.Fatalf("late answer: %d %q", oe.StatusCode, oe.Message)
	}
}

// A peer that never sends RTP is hung up after the inactivity timeout, and
// the app is told truthfully. The peer is a bare SIP UA on a UDP socket: it
// offers a media port it never sends from.
func TestRTPInactivityEndsCall(t *testing.T) {
	e := newEnv(t, serverOptions{Inactivity: 2 * time.Second})

	c, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst, _ := net.ResolveUDPAddr("udp", e.sb.sipAddr())
	la := c.LocalAddr().String()
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 4002 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	head := fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bKquiet1\r\nFrom: <sip:%s@127.0.0.2>;tag=quiet\r\nCall-ID: quiet@test\r\nMax-Forwards: 70\r\n", la, caller)
	invite := fmt.Sprintf("INVITE sip:%s@%s SIP/2.0\r\n%sTo: <sip:%s@127.0.0.1>\r\nCSeq: 1 INVITE\r\nContact: <sip:quiet@%s>\r\n"+
		"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", ownedNumber, e.sb.sipAddr(), head, ownedNumber, la, len(sdp), sdp)
	c.WriteTo([]byte(invite), dst)

	ic := e.incomingCall("4:" + caller)
	connID := e.answer(ic, "quiet")
	// Read until the 200 OK, acknowledge it, then wait for the BYE.
	toTag := ""
	buf := make([]byte, 8192)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("reading from the server: %v", err)
		}
		msg := string(buf[:n])
		if strings.HasPrefix(msg, "SIP/2.0 200") && toTag == "" {
			for _, line := range strings.Split(msg, "\r\n") {
				if strings.HasPrefix(strings.ToLower(line), "to:") {
					_, toTag, _ = strings.Cut(line, "tag=")
				}
			}
			ack := fmt.Sprintf("ACK sip:switchboard@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKquiet2\r\nFrom: <sip:%s@127.0.0.2>;tag=quiet\r\n"+
				"To: <sip:%s@127.0.0.1>;tag=%s\r\nCall-ID: quiet@test\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
				e.sb.sipAddr(), la, caller, ownedNumber, toTag)
			c.WriteTo([]byte(ack), dst)
			continue
		}
		if strings.HasPrefix(msg, "BYE ") {
			break
		}
	}
	e.callback(connID, "CallConnected")
	dc := e.callback(connID, "CallDisconnected")
	if ri, _ := dc.Data()["resultInformation"].(map[string]any); ri["subCode"] != float64(8513) {
		t.Fatalf("CallDisconnected resultInformation = %v", ri)
	}
}

// An INVITE whose SDP cannot be used is refused with the right status.
func TestMalformedSDP(t *testing.T) {
	sb := startServer(t, serverOptions{})
	c, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst, _ := net.ResolveUDPAddr("udp", sb.sipAddr())
	cases := []struct {
		name, sdp, want string
	}{
		{"garbage", "this is not sdp", "SIP/2.0 400"},
		{"no common codec", "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", "SIP/2.0 488"},
		{"no media line", "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nt=0 0\r\n", "SIP/2.0 4"},
	}
	for i, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			la := c.LocalAddr().String()
			msg := fmt.Sprintf("INVITE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKsdp%d\r\nFrom: <sip:%s@127.0.0.2>;tag=f%d\r\n"+
				"To: <sip:%s@127.0.0.1>\r\nCall-ID: sdp-%d@test\r\nCSeq: 1 INVITE\r\nContact: <sip:x@%s>\r\nMax-Forwards: 70\r\n"+
				"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
				ownedNumber, sb.sipAddr(), la, i, caller, i, ownedNumber, i, la, len(cs.sdp), cs.sdp)
			c.WriteTo([]byte(msg), dst)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 4096)
			for {
				n, _, err := c.ReadFrom(buf)
				if err != nil {
					t.Fatalf("no final response: %v", err)
				}
				resp := string(buf[:n])
				if strings.HasPrefix(resp, "SIP/2.0 1") {
					continue
				}
				if !strings.HasPrefix(resp, cs.want) {
					t.Fatalf("got %q, want %s", strings.SplitN(resp, "\r\n", 2)[0], cs.want)
				}
				// Acknowledge the final response so the server stops resending it.
				ack := fmt.Sprintf("ACK sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKsdp%d\r\nFrom: <sip:%s@127.0.0.2>;tag=f%d\r\n"+
					"To: <sip:%s@127.0.0.1>\r\nCall-ID: sdp-%d@test\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
					ownedNumber, sb.sipAddr(), la, i, caller, i, ownedNumber, i)
				c.WriteTo([]byte(ack), dst)
				return
			}
		})
	}
}

// Past calls.maxConcurrent new calls are refused fast: SIP 503 with
// Retry-After, and REST 503 with Retry-After.
func TestCallLimit(t *testing.T) {
	e := newEnv(t, serverOptions{MaxCalls: 1})
	first := startCaller(t, e.sb, "uac_call.xml", nil)
	ic := e.incomingCall("4:" + caller)
	second := startCaller(t, e.sb, "uac_reject.xml", map[string]string{"caller": "+15550003333", "expected": "503"})
	second.WaitSuccess(ctxTimeout(t, 20*time.Second))
	if m, ok := second.FindMessage(true, "503"); !ok || m.Header("Retry-After") == "" {
		t.Fatalf("503 without Retry-After: %+v", m)
	}
	oe := e.opError("createCall", map[string]any{"target": "4:" + callee, "sourceCallerIdNumber": ownedNumber, "callbackUrl": e.app.CallbackURL("x"), "timeoutMs": 15000})
	if oe.StatusCode != 503 {
		t.Fatalf("createCall over the limit: %d %s", oe.StatusCode, oe.Message)
	}
	st, b := e.sb.do("POST", "/calling/callConnections"+v, []byte(`{"targets":[{"rawId":"4:`+callee+`"}],"sourceCallerIdNumber":{"value":"`+ownedNumber+`"},"callbackUri":"http://127.0.0.1:9/cb"}`), nil)
	if st != 503 {
		t.Fatalf("REST over the limit: %d %s", st, b)
	}
	// The first call is unaffected.
	connID := e.answer(ic, "limit")
	e.callback(connID, "CallConnected")
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	first.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// Past calls.maxSetupRate new calls are refused fast: SIP 503 with
// Retry-After, REST 429 with Retry-After; admitted calls go on. (At 0.01
// calls/s the bucket holds one call and refills in 100 s, so the outcome
// does not depend on timing.)
func TestSetupRateLimit(t *testing.T) {
	e := newEnv(t, serverOptions{SetupRate: 0.01})
	first := startCaller(t, e.sb, "uac_call.xml", nil)
	ic := e.incomingCall("4:" + caller)
	second := startCaller(t, e.sb, "uac_reject.xml", map[string]string{"caller": "+15550003333", "expected": "503"})
	second.WaitSuccess(ctxTimeout(t, 20*time.Second))
	if m, ok := second.FindMessage(true, "503"); !ok || m.Header("Retry-After") != "1" {
		t.Fatalf("503 without Retry-After: 1: %+v", m)
	}
	st, b := e.sb.do("POST", "/calling/callConnections"+v, []byte(`{"targets":[{"rawId":"4:`+callee+`"}],"sourceCallerIdNumber":{"value":"`+ownedNumber+`"},"callbackUri":"http://127.0.0.1:9/cb"}`), nil)
	if st != 429 {
		t.Fatalf("REST over the rate: %d %s", st, b)
	}
	if code, _ := errorBody(t, b); code != "TooManyRequests" {
		t.Fatalf("REST over the rate: error code %q", code)
	}
	connID := e.answer(ic, "rate")
	e.callback(connID, "CallConnected")
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	first.WaitSuccess(ctxTimeout(t, 20*time.Second))
}
