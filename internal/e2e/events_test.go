package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// With the app's webhook down for a while, and the server restarted in the
// meantime, every event still arrives, once per id, in order per call.
func TestEventsSurviveWebhookOutageAndRestart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := l.Addr().String()
	l.Close()
	e := newEnv(t, serverOptions{HTTPListen: httpAddr})
	sipp := startCaller(t, e.sb, "uac_call.xml", nil)
	ic := e.incomingCall("4:" + caller)
	connID := e.answer(ic, "outage")
	e.callback(connID, "CallConnected")

	// The app goes down; the call ends while nobody listens.
	e.app.Stop()
	if st, b := e.sb.do("DELETE", "/calling/callConnections/"+connID+v, nil, nil); st != 204 {
		t.Fatalf("hangUp: %d %s", st, b)
	}
	if _, err := sipp.WaitLog(ctxTimeout(t, 10*time.Second), "BYE_RECEIVED"); err != nil {
		t.Fatal("no BYE")
	}
	time.Sleep(time.Second) // a few failed delivery attempts
	e.sb.restart()
	if e.sb.APIURL != "https://"+httpAddr {
		t.Fatalf("server came back on %s, want %s", e.sb.APIURL, httpAddr)
	}
	e.app.Restart()

	e.callback(connID, "CallDisconnected")
	evs := e.callbacks(connID)
	var kinds []string
	seen := map[string]bool{}
	for _, ev := range evs {
		id := cloudEventID(t, ev)
		if seen[id] {
			t.Fatalf("event %s (%s) delivered twice", id, ev.ParsedKind)
		}
		seen[id] = true
		kinds = append(kinds, ev.ParsedKind)
	}
	want := []string{"ParticipantsUpdated", "CallConnected", "CallDisconnected"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for _, ev := range evs {
		if !ev.JWTValid {
			t.Fatalf("%s JWT invalid after restart: %s", ev.ParsedKind, ev.JWTError)
		}
	}
}

// A webhook that accepts requests and never answers does not hold back the
// call's later events, and the hung events are not re-sent.
func TestHangingWebhookDoesNotStallEvents(t *testing.T) {
	e := newEnv(t, serverOptions{})
	if err := e.app.SetMode("/callbacks", "hang"); err != nil {
		t.Fatal(err)
	}
	sipp := startCaller(t, e.sb, "uac_call.xml", nil)
	ic := e.incomingCall("4:" + caller)
	connID := e.answer(ic, "hang")
	// Every event arrives even though none is ever answered.
	waitFor(t, "events despite a hanging webhook", 30*time.Second, func() bool {
		return len(e.callbacks(connID)) >= 2
	})
	if st, b := e.sb.do("DELETE", "/calling/callConnections/"+connID+v, nil, nil); st != 204 {
		t.Fatalf("hangUp: %d %s", st, b)
	}
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
	waitFor(t, "CallDisconnected despite a hanging webhook", 30*time.Second, func() bool {
		evs := e.callbacks(connID)
		return len(evs) >= 3 && evs[len(evs)-1].ParsedKind == "CallDisconnected"
	})
	time.Sleep(3 * time.Second) // longer than the response timeout: any re-send would show
	evs := e.callbacks(connID)
	var kinds []string
	for _, ev := range evs {
		if !ev.Hung {
			t.Fatalf("%s was answered in hang mode", ev.ParsedKind)
		}
		kinds = append(kinds, ev.ParsedKind)
	}
	if fmt.Sprint(kinds) != fmt.Sprint([]string{"ParticipantsUpdated", "CallConnected", "CallDisconnected"}) {
		t.Fatalf("events %v (a hung event was re-sent or lost)", kinds)
	}
}

// cloudEventID is the CloudEvent id of a recorded callback.
func cloudEventID(t *testing.T, ev testpeer.Event) string {
	var one struct {
		ID string `json:"id"`
	}
	var many []struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(ev.Raw, &one) == nil && one.ID != "" {
		return one.ID
	}
	if json.Unmarshal(ev.Raw, &many) == nil && len(many) > 0 && many[0].ID != "" {
		return many[0].ID
	}
	t.Fatalf("callback without a CloudEvent id: %s", ev.Raw)
	return ""
}
