package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

const callee = "+15551230000"

// startCallee starts a SIPp callee on the trunk's address and returns it with
// the server options that route outbound calls to it.
func startCallee(t *testing.T, scenario string, vars map[string]string) (*testpeer.SIPpRun, serverOptions) {
	port, err := testpeer.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	uas := testpeer.RunSIPp(t, testpeer.SIPpOptions{Scenario: scenario, LocalIP: "127.0.0.2", Port: port, Vars: vars, Timeout: 40 * time.Second})
	return uas, serverOptions{TrunkAddr: uas.Addr(), DialTimeout: 3 * time.Second}
}

func TestOutboundCallThroughTrunk(t *testing.T) {
	uas, o := startCallee(t, "uas_answer.xml", nil)
	e := newEnv(t, o)
	var props map[string]any
	e.op("createCall", map[string]any{"target": "4:" + callee, "sourceCallerIdNumber": ownedNumber, "callbackUrl": e.app.CallbackURL("out")}, &props)
	connID, _ := props["callConnectionId"].(string)
	if connID == "" {
		t.Fatalf("createCall = %v", props)
	}
	e.callback(connID, "CallConnected")

	// The INVITE carried the caller ID and an offer with our codecs.
	if from, _ := uas.LogValue("FROM_USER"); from != ownedNumber {
		t.Fatalf("INVITE From user %q, want %s", from, ownedNumber)
	}
	if pai, _ := uas.LogValue("PAI"); !strings.Contains(pai, ownedNumber) {
		t.Fatalf("P-Asserted-Identity %q", pai)
	}
	if ruri, _ := uas.LogValue("RURI_USER"); ruri != callee {
		t.Fatalf("Request-URI user %q", ruri)
	}
	if pts, _ := uas.LogValue("OFFER_PTS"); !strings.Contains(pts, "0") || !strings.Contains(pts, "101") {
		t.Fatalf("offer payload types %q", pts)
	}

	e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": true}, nil) // terminate
	if _, err := uas.WaitLog(ctxTimeout(t, 10*time.Second), "BYE_RECEIVED"); err != nil {
		t.Fatalf("callee got no BYE: %v", err)
	}
	uas.WaitSuccess(ctxTimeout(t, 20*time.Second))
	e.callback(connID, "CallDisconnected")
}

func TestOutboundCallFailures(t *testing.T) {
	cases := []struct {
		scenario string
		vars     map[string]string
		sipCode  float64
	}{
		{"uas_busy.xml", map[string]string{"code": "486"}, 486},
		{"uas_busy.xml", map[string]string{"code": "603"}, 603},
		{"uas_noanswer.xml", nil, 487}, // canceled after calls.dialTimeout
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s-%v", c.scenario, c.sipCode), func(t *testing.T) {
			uas, o := startCallee(t, c.scenario, c.vars)
			e := newEnv(t, o)
			var props map[string]any
			e.op("createCall", map[string]any{"target": "4:" + callee, "sourceCallerIdNumber": ownedNumber, "callbackUrl": e.app.CallbackURL("fail")}, &props)
			connID := props["callConnectionId"].(string)
			ev := e.callback(connID, "CreateCallFailed")
			ri, _ := ev.Data()["resultInformation"].(map[string]any)
			sd, _ := ri["sipDetails"].(map[string]any)
			if sd == nil || sd["code"] != c.sipCode {
				t.Fatalf("CreateCallFailed resultInformation = %v", ri)
			}
			uas.WaitSuccess(ctxTimeout(t, 20*time.Second))
			// No CallConnected or CallDisconnected follows a failed create.
			time.Sleep(300 * time.Millisecond)
			for _, ev := range e.callbacks(connID) {
				if ev.ParsedKind == "CallConnected" || ev.ParsedKind == "CallDisconnected" {
					t.Fatalf("unexpected %s after CreateCallFailed", ev.ParsedKind)
				}
			}
		})
	}
}

// The SDK's retry carries the same Repeatability-Request-ID: the server must
// answer it from the first result and not place a second call.
func TestRepeatedCreateCallPlacesOneCall(t *testing.T) {
	uas, o := startCallee(t, "uas_answer.xml", nil)
	sb := startServer(t, o)
	body := []byte(`{"targets":[{"kind":"phoneNumber","rawId":"4:` + callee + `","phoneNumber":{"value":"` + callee + `","isAnonymous":false}}],` +
		`"sourceCallerIdNumber":{"value":"` + ownedNumber + `","isAnonymous":false},"callbackUri":"http://127.0.0.1:9/cb"}`)
	hdr := map[string]string{"Repeatability-Request-ID": "3f1d2c8e-6f0b-4d6f-9a52-0d5d8c0b1e77", "Repeatability-First-Sent": time.Now().UTC().Format(time.RFC1123)}
	st1, b1 := sb.do("POST", "/calling/callConnections"+v, body, hdr)
	st2, b2 := sb.do("POST", "/calling/callConnections"+v, body, hdr)
	if st1 != 201 || st2 != 201 || string(b1) != string(b2) {
		t.Fatalf("first %d %s\nretry %d %s", st1, b1, st2, b2)
	}
	// Another request id is another call (the SIPp callee takes only one,
	// so count INVITEs it saw rather than calls connected).
	if _, err := uas.WaitLog(ctxTimeout(t, 10*time.Second), "CALL_ID"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	invites := 0
	for _, m := range uas.Messages() {
		if m.Received && m.Method == "INVITE" {
			invites++
		}
	}
	if invites != 1 {
		t.Fatalf("callee saw %d INVITEs, want 1", invites)
	}
}
