package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

const caller = "+15550001111"

// startCaller starts SIPp calling the owned number through the trunk.
func startCaller(t *testing.T, sb *sbServer, scenario string, vars map[string]string) *testpeer.SIPpRun {
	if vars == nil {
		vars = map[string]string{}
	}
	if _, ok := vars["caller"]; !ok {
		vars["caller"] = caller
	}
	return testpeer.RunSIPp(t, testpeer.SIPpOptions{
		Scenario: scenario, Remote: sb.sipAddr(), Service: ownedNumber, Vars: vars,
		LocalIP: "127.0.0.2", Timeout: 40 * time.Second,
	})
}

// startCallerFiles is startCaller with files (audio) in SIPp's directory.
func startCallerFiles(t *testing.T, sb *sbServer, scenario string, files map[string][]byte) *testpeer.SIPpRun {
	return testpeer.RunSIPp(t, testpeer.SIPpOptions{
		Scenario: scenario, Remote: sb.sipAddr(), Service: ownedNumber, Vars: map[string]string{"caller": caller},
		LocalIP: "127.0.0.2", Timeout: 40 * time.Second, Files: files,
	})
}

// The whole inbound flow over HTTPS, with the app trusting the generated CA
// through NODE_EXTRA_CA_CERTS and no client options.
func TestInboundAnswerAndHangUp(t *testing.T) {
	e := newEnv(t, serverOptions{})
	if !strings.HasPrefix(e.sb.APIURL, "https://") {
		t.Fatalf("API is not HTTPS: %s", e.sb.APIURL)
	}
	sipp := startCaller(t, e.sb, "uac_call.xml", nil)

	ic := e.incomingCall("4:" + caller)
	data := ic.Data()
	if to, _ := data["to"].(map[string]any); to["rawId"] != "4:"+ownedNumber || to["kind"] != "phoneNumber" {
		t.Fatalf("IncomingCall to = %v", data["to"])
	}
	if ic.Header("aeg-event-type") != "Notification" {
		t.Fatalf("aeg-event-type = %q", ic.Header("aeg-event-type"))
	}
	for _, k := range []string{"serverCallId", "correlationId", "incomingCallContext"} {
		if ic.DataString(k) == "" {
			t.Fatalf("IncomingCall has no %s: %v", k, data)
		}
	}
	connID := e.answer(ic, "inbound")

	// SIPp got 200 OK with an SDP answer it could use.
	pt, err := sipp.WaitLog(ctxTimeout(t, 10*time.Second), "ANSWER_PT")
	if err != nil || (pt != "0" && pt != "8") {
		t.Fatalf("answer payload type %q (%v)", pt, err)
	}
	rtpAddr, _ := sipp.LogValue("REMOTE_RTP")
	if !strings.HasPrefix(rtpAddr, "127.0.0.1:") {
		t.Fatalf("SDP answer media address %q", rtpAddr)
	}

	pu := e.callback(connID, "ParticipantsUpdated")
	cc := e.callback(connID, "CallConnected")
	if pu.Seq > cc.Seq {
		t.Fatal("ParticipantsUpdated arrived after CallConnected")
	}
	for _, ev := range []testpeer.Event{pu, cc} {
		if ev.DataString("correlationId") != ic.DataString("correlationId") || ev.DataString("serverCallId") != ic.DataString("serverCallId") {
			t.Fatalf("%s ids do not match IncomingCall: %v", ev.ParsedKind, ev.Data())
		}
	}
	if !contains(mustJSON(pu.Data()["participants"]), "4:"+caller) {
		t.Fatalf("ParticipantsUpdated participants = %v", pu.Data()["participants"])
	}

	// Garbage on the call's RTP port is ignored; the call goes on.
	if c, err := net.Dial("udp", rtpAddr); err == nil {
		c.Write([]byte("not rtp at all"))
		c.Write([]byte{0x80, 0x00})
		c.Close()
	}

	var props map[string]any
	e.op("getCallConnectionProperties", map[string]any{"callConnectionId": connID}, &props)
	if props["callConnectionState"] != "connected" || !contains(mustJSON(props), caller) {
		t.Fatalf("properties = %v", props)
	}
	var parts struct {
		Participants []map[string]any `json:"participants"`
	}
	e.op("listParticipants", map[string]any{"callConnectionId": connID}, &parts)
	if len(parts.Participants) != 1 || !contains(mustJSON(parts.Participants[0]), caller) {
		t.Fatalf("participants = %v", parts.Participants)
	}
	var one map[string]any
	e.op("getParticipant", map[string]any{"callConnectionId": connID, "rawId": "4:" + caller}, &one)
	if !contains(mustJSON(one), caller) {
		t.Fatalf("participant = %v", one)
	}

	time.Sleep(time.Second) // let media flow both ways
	e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": false}, nil)
	if _, err := sipp.WaitLog(ctxTimeout(t, 10*time.Second), "BYE_RECEIVED"); err != nil {
		t.Fatalf("SIPp got no BYE: %v", err)
	}
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
	dc := e.callback(connID, "CallDisconnected")
	if ri, _ := dc.Data()["resultInformation"].(map[string]any); ri == nil || ri["subCode"] != float64(7000) {
		t.Fatalf("CallDisconnected resultInformation = %v", dc.Data()["resultInformation"])
	}

	// The call record says who, when and how it ended.
	var recs struct {
		Value []map[string]any `json:"value"`
	}
	waitFor(t, "call record", 10*time.Second, func() bool {
		e.sb.adminJSON("GET", "/admin/v1/callRecords", nil, &recs, 200)
		return len(recs.Value) == 1
	})
	r := recs.Value[0]
	if r["direction"] != "inbound" || r["from"] != "4:"+caller || r["to"] != "4:"+ownedNumber || r["endReason"] != "hangup-api" || r["answeredAt"] == nil {
		t.Fatalf("call record = %v", r)
	}
	// RTP flowed both ways for the second the call lasted (50 packets a
	// second each way), and the two garbage datagrams were counted, not played.
	if in, out := r["rtpPacketsIn"].(float64), r["rtpPacketsOut"].(float64); in < 25 || out < 25 {
		t.Fatalf("RTP packets in %v, out %v: media did not flow", in, out)
	}
	if bad := r["rtpMalformed"].(float64); bad < 2 {
		t.Fatalf("garbage datagrams not counted: %v", bad)
	}
	// The subscription got the call's lifecycle, in order.
	var lifecycle []string
	waitFor(t, "CallEnded", 10*time.Second, func() bool {
		evs, err := e.app.Events(ctxTimeout(t, 5*time.Second), 0)
		if err != nil {
			t.Fatal(err)
		}
		lifecycle = lifecycle[:0]
		for _, ev := range evs {
			if ev.Source == "eventgrid" && ev.DataString("serverCallId") == ic.DataString("serverCallId") {
				lifecycle = append(lifecycle, strings.TrimPrefix(ev.EventType, "Microsoft.Communication."))
			}
		}
		return len(lifecycle) > 0 && lifecycle[len(lifecycle)-1] == "CallEnded"
	})
	if got := strings.Join(lifecycle, ","); got != "IncomingCall,CallStarted,CallParticipantAdded,CallParticipantRemoved,CallEnded" {
		t.Fatalf("subscription events %s", got)
	}
	e.sb.waitIdle(0, 0)
}

// Many calls, garbage and refused INVITEs leave nothing behind: no call,
// media leg, mixer or goroutine outlives them.
func TestNoLeaks(t *testing.T) {
	e := newEnv(t, serverOptions{})
	time.Sleep(time.Second) // let start-up goroutines settle
	baseline := e.sb.status().Goroutines
	for i := 0; i < 4; i++ {
		from := fmt.Sprintf("+1555000440%d", i)
		sipp := startCaller(t, e.sb, "uac_call.xml", map[string]string{"caller": from})
		connID := e.answer(e.incomingCall("4:"+from), fmt.Sprint("leak", i))
		e.callback(connID, "CallConnected")
		e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
		sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
	}
	for i, reason := range []string{"busy", "forbidden"} {
		from := fmt.Sprintf("+1555000550%d", i)
		sipp := startCaller(t, e.sb, "uac_reject.xml", map[string]string{"caller": from})
		e.op("rejectCall", map[string]any{"incomingCallContext": e.incomingCall("4:" + from).DataString("incomingCallContext"), "reason": reason}, nil)
		sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
	}
	c, _ := net.Dial("udp", e.sb.sipAddr())
	for i := 0; i < 50; i++ {
		c.Write([]byte(fmt.Sprintf("INVITE garbage %d\r\n\r\n\x00\xff", i)))
	}
	c.Close()
	// SIP transactions linger for their timers (up to 32 s), so allow that.
	e.sb.waitIdle(baseline, 15)
}
