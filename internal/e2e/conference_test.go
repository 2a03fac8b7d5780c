package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// confPeer is a registered baresip that sends its own tone and records
// what it hears.
type confPeer struct {
	name string
	tone float64
	u    user
	b    *testpeer.Baresip
	rec  string
}

func startConfPeer(t *testing.T, e *env, name string, tone float64) *confPeer {
	return startConfPeerWith(t, e, name, tone, nil)
}

// startConfPeerWith is startConfPeer with changes to baresip's options.
func startConfPeerWith(t *testing.T, e *env, name string, tone float64, opt func(*testpeer.BaresipOptions)) *confPeer {
	p := &confPeer{name: name, tone: tone}
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": name}, &p.u, 201)
	dir := t.TempDir()
	play := filepath.Join(dir, "tone.wav")
	if err := testpeer.ToneWAV(tone, 60).WriteFile(play); err != nil {
		t.Fatal(err)
	}
	p.rec = filepath.Join(dir, "heard.wav")
	o := testpeer.BaresipOptions{SIPUser: p.u.Username, Password: p.u.Password, Registrar: e.sb.sipAddr(),
		AutoAnswer: true, PlayFile: play, RecordFile: p.rec}
	if opt != nil {
		opt(&o)
	}
	p.b = testpeer.StartBaresip(t, o)
	if err := p.b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	return p
}

// heard classifies each 200 ms window of a recording by which of the
// given tones it contains: a letter per tone present, '-' for none.
func heard(t *testing.T, rec string, tones map[byte]float64) []string {
	w, err := testpeer.ReadWAV(rec)
	if err != nil {
		t.Fatalf("%s: %v", rec, err)
	}
	win := w.SampleRate / 5
	var out []string
	for i := 0; i+win <= len(w.Samples); i += win {
		x := w.Samples[i : i+win]
		r := rms(x)
		s := ""
		for _, c := range []byte("ABC") {
			f, ok := tones[c]
			if !ok || r < 100 {
				continue
			}
			if goertzel(x, w.SampleRate, f) > 0.05*r*r {
				s += string(c)
			}
		}
		if s == "" {
			s = "-"
		}
		out = append(out, s)
	}
	return out
}

// waitJoined waits until every peer's call is established.
func waitJoined(t *testing.T, peers ...*confPeer) {
	t.Helper()
	for _, p := range peers {
		if _, err := p.b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
			t.Fatalf("%s did not join: %v", p.name, err)
		}
	}
}

// waitClosed waits until every peer's call is closed, then stops the peers
// so that their recordings are written.
func waitClosed(t *testing.T, peers ...*confPeer) {
	t.Helper()
	for _, p := range peers {
		if _, err := p.b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
			t.Fatal(err)
		}
		p.b.Stop()
	}
}

// mustHearEachOther checks two peers' recordings (stopped first): each
// heard the other's tone ('A' for a, 'B' for b) in at least a second of it.
func mustHearEachOther(t *testing.T, tones map[byte]float64, a, b *confPeer) {
	t.Helper()
	for _, h := range []struct {
		p     *confPeer
		other string
	}{{a, "B"}, {b, "A"}} {
		w := heard(t, h.p.rec, tones)
		n := 0
		for _, s := range w {
			if s == h.other {
				n++
			}
		}
		if n < 5 {
			t.Fatalf("%s heard the other only in %d windows: %v", h.p.name, n, w)
		}
	}
}

// Three peers in one call: each hears the other two and not itself
// (mix-minus); a muted peer's tone leaves the others' ears; a removed peer
// gets BYE and its tone disappears.
func TestConferenceMixMinusMuteRemove(t *testing.T) {
	e := newEnv(t, serverOptions{})
	tones := map[byte]float64{'A': 500, 'B': 1100, 'C': 1700}
	a := startConfPeer(t, e, "anna", tones['A'])
	b := startConfPeer(t, e, "ben", tones['B'])
	c := startConfPeer(t, e, "cleo", tones['C'])

	var props map[string]any
	e.op("createCall", map[string]any{"target": a.u.ID, "callbackUrl": e.app.CallbackURL("conf")}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")
	for _, p := range []*confPeer{b, c} {
		var res map[string]any
		e.op("addParticipant", map[string]any{"callConnectionId": connID, "target": p.u.ID, "operationContext": "add-" + p.name}, &res)
		if findString(res, "invitationId") == "" {
			t.Fatalf("addParticipant result %v", res)
		}
		ev, err := e.app.WaitEvent(ctxTimeout(t, 20*time.Second), func(ev testpeer.Event) bool {
			return ev.ParsedKind == "AddParticipantSucceeded" && ev.OperationContext() == "add-"+p.name
		})
		if err != nil {
			t.Fatalf("%s was not added: %v", p.name, err)
		}
		if !contains(mustJSON(ev.Data()["participant"]), p.u.ID) {
			t.Fatalf("AddParticipantSucceeded participant = %v", ev.Data()["participant"])
		}
	}
	var parts struct {
		Participants []map[string]any `json:"participants"`
	}
	e.op("listParticipants", map[string]any{"callConnectionId": connID}, &parts)
	if len(parts.Participants) != 3 {
		t.Fatalf("roster %v", parts.Participants)
	}
	time.Sleep(2 * time.Second) // everyone talks

	rosterMatches(t, e, connID, 3, 0)
	e.op("muteParticipant", map[string]any{"callConnectionId": connID, "rawId": b.u.ID, "operationContext": "mute-ben"}, nil)
	rosterMatches(t, e, connID, 3, 1)
	time.Sleep(2 * time.Second) // ben is muted

	e.op("removeParticipant", map[string]any{"callConnectionId": connID, "rawId": c.u.ID, "operationContext": "rm-cleo"}, nil)
	if _, err := c.b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal("the removed peer got no BYE")
	}
	e.callback(connID, "RemoveParticipantSucceeded")
	time.Sleep(2 * time.Second) // cleo is gone

	// The app hangs up (not for everyone): anna and ben go on talking.
	e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": false}, nil)
	e.callback(connID, "CallDisconnected")
	time.Sleep(time.Second)
	for _, ev := range append(a.b.AllEvents(), b.b.AllEvents()...) {
		if ev.Type == "CALL_CLOSED" {
			t.Fatal("the call ended for the others when the app left")
		}
	}
	// When anna leaves, ben is alone: the call ends and he gets BYE.
	if err := a.b.Hangup(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal("ben was left in an empty call")
	}
	// ParticipantsUpdated numbers only increase.
	last := 0.0
	for _, ev := range e.callbacks(connID) {
		if ev.ParsedKind == "ParticipantsUpdated" {
			n, _ := ev.Data()["sequenceNumber"].(float64)
			if n <= last {
				t.Fatalf("sequenceNumber %v after %v", n, last)
			}
			last = n
		}
	}
	for _, p := range []*confPeer{a, b, c} {
		p.b.Stop()
	}
	ha, hb, hc := heard(t, a.rec, tones), heard(t, b.rec, tones), heard(t, c.rec, tones)
	t.Logf("anna heard: %s", strings.Join(ha, " "))
	t.Logf("ben heard:  %s", strings.Join(hb, " "))
	t.Logf("cleo heard: %s", strings.Join(hc, " "))

	// Mix-minus: each heard both others at once, and never itself.
	for _, h := range []struct {
		name, own, others string
		w                 []string
	}{{"anna", "A", "BC", ha}, {"ben", "B", "AC", hb}, {"cleo", "C", "AB", hc}} {
		both := false
		for _, s := range h.w {
			if strings.Contains(s, h.own) {
				t.Fatalf("%s heard its own tone: %v", h.name, h.w)
			}
			if s == h.others {
				both = true
			}
		}
		if !both {
			t.Fatalf("%s never heard both others at once: %v", h.name, h.w)
		}
	}
	// Anna's ears over time: B and C, then C alone (ben muted), then
	// nothing (cleo removed, ben muted) until she hangs up.
	phase := 0
	for _, s := range ha {
		switch {
		case s == "BC" && phase == 0:
			phase = 1
		case s == "C" && phase >= 1:
			phase = 2
		case strings.Contains(s, "B") && phase == 2:
			t.Fatalf("ben's tone came back after mute: %v", ha)
		case s == "-" && phase == 2:
			phase = 3
		case strings.Contains(s, "C") && phase == 3:
			t.Fatalf("cleo's tone came back after remove: %v", ha)
		}
	}
	if phase != 3 {
		t.Fatalf("anna's recording does not go BC -> C -> silence (phase %d): %v", phase, ha)
	}
	// Ben, muted, still heard anna after cleo left.
	if last := hb[len(hb)-3]; last != "A" {
		t.Fatalf("ben's last windows %v", hb[len(hb)-5:])
	}
}

// addParticipant to callees that answer, are busy, never answer, or are
// canceled while ringing.
func TestAddParticipantOutcomes(t *testing.T) {
	cases := []struct {
		name, scenario string
		vars           map[string]string
		cancel         bool
		event          string
		sipCode        float64
	}{
		{"answers", "uas_answer.xml", nil, false, "AddParticipantSucceeded", 0},
		{"busy", "uas_busy.xml", map[string]string{"code": "486"}, false, "AddParticipantFailed", 486},
		{"no answer", "uas_noanswer.xml", nil, false, "AddParticipantFailed", 487},
		{"canceled", "uas_noanswer.xml", nil, true, "AddParticipantFailed", 487},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			uas, o := startCallee(t, tc.scenario, tc.vars)
			e := newEnv(t, o)
			connID, sipp := answeredCall(t, e, "add")
			args := map[string]any{"callConnectionId": connID, "target": "4:" + callee, "sourceCallerIdNumber": ownedNumber,
				"invitationTimeoutInSeconds": 2, "operationContext": "add"}
			if tc.cancel {
				args["invitationTimeoutInSeconds"] = 30
			}
			var res map[string]any
			// The SDK sends custom headers through the raw request here, as
			// customCallingContext is not an option of the test app's op.
			body := `{"participantToAdd":{"kind":"phoneNumber","rawId":"4:` + callee + `","phoneNumber":{"value":"` + callee + `"}},` +
				`"sourceCallerIdNumber":{"value":"` + ownedNumber + `"},"invitationTimeoutInSeconds":` + fmt.Sprint(args["invitationTimeoutInSeconds"]) +
				`,"operationContext":"add","customCallingContext":{"voipHeaders":{},"sipHeaders":{"User-To-User":"uui-value","X-MS-Custom-Order":"4711"}}}`
			st, b := e.sb.do("POST", "/calling/callConnections/"+connID+"/participants:add"+v, []byte(body), nil)
			if st != 202 {
				t.Fatalf("add: %d %s", st, b)
			}
			jsonUnmarshal(t, b, &res)
			invID, _ := res["invitationId"].(string)
			if tc.cancel {
				if _, err := uas.WaitLog(ctxTimeout(t, 10*time.Second), "CALL_ID"); err != nil {
					t.Fatal("the invitee never rang")
				}
				var cres map[string]any
				e.op("cancelAddParticipant", map[string]any{"callConnectionId": connID, "invitationId": invID}, &cres)
				e.callback(connID, "CancelAddParticipantSucceeded")
			}
			ev, err := e.app.WaitEvent(ctxTimeout(t, 20*time.Second), func(ev testpeer.Event) bool {
				return ev.OperationContext() == "add" && strings.HasPrefix(ev.ParsedKind, "AddParticipant")
			})
			if err != nil || ev.ParsedKind != tc.event {
				t.Fatalf("got %s (%v), want %s", ev.ParsedKind, err, tc.event)
			}
			if tc.sipCode != 0 {
				ri, _ := ev.Data()["resultInformation"].(map[string]any)
				sd, _ := ri["sipDetails"].(map[string]any)
				if sd == nil || sd["code"] != tc.sipCode {
					t.Fatalf("%s resultInformation = %v", ev.ParsedKind, ri)
				}
			}
			// The INVITE carried the caller ID and the custom headers.
			inv, ok := uas.FindMessage(true, "INVITE")
			if !ok || inv.Header("User-To-User") != "uui-value" || inv.Header("X-MS-Custom-Order") != "4711" || !strings.Contains(inv.Header("From"), ownedNumber) {
				t.Fatalf("INVITE headers: UUI %q, X-MS-Custom-Order %q, From %q", inv.Header("User-To-User"), inv.Header("X-MS-Custom-Order"), inv.Header("From"))
			}
			// The original call goes on either way.
			var props map[string]any
			e.op("getCallConnectionProperties", map[string]any{"callConnectionId": connID}, &props)
			if props["callConnectionState"] != "connected" {
				t.Fatalf("call state %v after add %s", props["callConnectionState"], tc.name)
			}
			e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": true}, nil)
			sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
			uas.WaitSuccess(ctxTimeout(t, 20*time.Second))
		})
	}
}

func jsonUnmarshal(t *testing.T, b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// rosterMatches checks that the latest ParticipantsUpdated and
// listParticipants agree: n participants, muted of them muted.
func rosterMatches(t *testing.T, e *env, connID string, n, muted int) {
	t.Helper()
	var parts struct {
		Participants []map[string]any `json:"participants"`
	}
	e.op("listParticipants", map[string]any{"callConnectionId": connID}, &parts)
	count := func(v any) (int, int) {
		js := mustJSON(v)
		return strings.Count(js, `"isMuted"`), strings.Count(js, `"isMuted":true`)
	}
	if ln, lm := count(parts.Participants); ln != n || lm != muted {
		t.Fatalf("listParticipants: %d participants, %d muted; want %d, %d", ln, lm, n, muted)
	}
	waitFor(t, "ParticipantsUpdated to match the roster", 10*time.Second, func() bool {
		var latest testpeer.Event
		for _, ev := range e.callbacks(connID) {
			if ev.ParsedKind == "ParticipantsUpdated" {
				latest = ev
			}
		}
		un, um := count(latest.Data()["participants"])
		return un == n && um == muted
	})
}

// createCall with several targets: everyone who answers is in one call;
// a target that cannot be reached does not stop the others.
func TestGroupCall(t *testing.T) {
	e := newEnv(t, serverOptions{})
	tones := map[byte]float64{'A': 500, 'B': 1100}
	x := startConfPeer(t, e, "xena", tones['A'])
	y := startConfPeer(t, e, "yuri", tones['B'])
	var ghost user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "ghost"}, &ghost, 201) // never registers
	var props map[string]any
	e.op("createGroupCall", map[string]any{"targets": []string{x.u.ID, ghost.ID, y.u.ID}, "callbackUrl": e.app.CallbackURL("group")}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")
	waitJoined(t, x, y)
	rosterMatches(t, e, connID, 2, 0)
	time.Sleep(2 * time.Second)
	e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": true}, nil)
	waitClosed(t, x, y)
	// They talked to each other through the call's mixer.
	mustHearEachOther(t, tones, x, y)
	for _, ev := range e.callbacks(connID) {
		if ev.ParsedKind == "CreateCallFailed" {
			t.Fatal("CreateCallFailed although two targets answered")
		}
	}
}

// A G.722 peer and a G.711 peer in one call hear each other: the G.722 leg
// is transcoded to and from the narrowband mix.
func TestConferenceG722(t *testing.T) {
	e := newEnv(t, serverOptions{})
	tones := map[byte]float64{'A': 500, 'B': 1100}
	x := startConfPeerWith(t, e, "wanda", tones['A'], func(o *testpeer.BaresipOptions) {
		o.ExtraConfig = append(o.ExtraConfig, "module\t\t\tg722.so")
		o.ExtraAccountParams = ";audio_codecs=G722/16000/1"
	})
	y := startConfPeer(t, e, "yves", tones['B'])
	var props map[string]any
	e.op("createGroupCall", map[string]any{"targets": []string{x.u.ID, y.u.ID}, "callbackUrl": e.app.CallbackURL("g722")}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")
	waitJoined(t, x, y)
	rosterMatches(t, e, connID, 2, 0)
	time.Sleep(2 * time.Second)
	e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": true}, nil)
	waitClosed(t, x, y)
	if !strings.Contains(e.sb.logs(), `"codec":"G722"`) {
		t.Fatal("no leg negotiated G722")
	}
	wx, err := testpeer.ReadWAV(x.rec)
	if err != nil {
		t.Fatal(err)
	}
	if wx.SampleRate != 16000 {
		t.Fatalf("the G.722 peer recorded %d Hz audio, want 16000 (wideband codec)", wx.SampleRate)
	}
	mustHearEachOther(t, tones, x, y)
}

// transferToParticipant in a 1:1 call whose caller refuses REFER: the
// server bridges, the caller ends up talking to the target and the app
// leaves; a target that is busy fails the transfer and the call goes on.
func TestTransfer(t *testing.T) {
	t.Run("accepted", func(t *testing.T) {
		uas, o := startCallee(t, "uas_answer.xml", map[string]string{"hangup_after_ms": "1500"})
		e := newEnv(t, o)
		connID, sipp := answeredCall(t, e, "xfer")
		e.op("transferCallToParticipant", map[string]any{"callConnectionId": connID, "target": "4:" + callee, "operationContext": "xfer"}, nil)
		ev := e.callback(connID, "CallTransferAccepted")
		if !contains(mustJSON(ev.Data()["transferTarget"]), callee) || !contains(mustJSON(ev.Data()["transferee"]), caller) {
			t.Fatalf("CallTransferAccepted = %v", ev.Data())
		}
		e.callback(connID, "CallDisconnected")
		// The caller's phone refused REFER, so the server bridged the transfer.
		if v, _ := sipp.LogValue("REFER_REFUSED"); v != "1" {
			t.Fatal("the transferee was not asked to transfer by REFER first")
		}
		// The target saw the caller's number; when it hangs up the caller gets BYE.
		if from, _ := uas.LogValue("FROM_USER"); from != caller {
			t.Fatalf("target saw %q, want the caller %s", from, caller)
		}
		if _, err := sipp.WaitLog(ctxTimeout(t, 15*time.Second), "BYE_RECEIVED"); err != nil {
			t.Fatal("the caller was not hung up when the target left")
		}
		sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
		uas.WaitSuccess(ctxTimeout(t, 20*time.Second))
	})
	t.Run("busy", func(t *testing.T) {
		uas, o := startCallee(t, "uas_busy.xml", map[string]string{"code": "486"})
		e := newEnv(t, o)
		connID, sipp := answeredCall(t, e, "xfer")
		e.op("transferCallToParticipant", map[string]any{"callConnectionId": connID, "target": "4:" + callee, "operationContext": "xfer"}, nil)
		ev := e.callback(connID, "CallTransferFailed")
		if !contains(mustJSON(ev.Data()["resultInformation"]), `"code":486`) {
			t.Fatalf("CallTransferFailed = %v", ev.Data())
		}
		var props map[string]any
		e.op("getCallConnectionProperties", map[string]any{"callConnectionId": connID}, &props)
		if props["callConnectionState"] != "connected" {
			t.Fatalf("state after a failed transfer: %v", props["callConnectionState"])
		}
		e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
		sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
		uas.WaitSuccess(ctxTimeout(t, 20*time.Second))
	})
}

// A transferee that accepts REFER (baresip) calls the target itself; the
// transfer succeeds when its NOTIFY reports the target answered.
func TestTransferByRefer(t *testing.T) {
	uas, o := startCallee(t, "uas_answer.xml", nil)
	e := newEnv(t, o)
	var u user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "kim"}, &u, 201)
	b := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr(), AutoAnswer: true})
	if err := b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	var props map[string]any
	e.op("createCall", map[string]any{"target": u.ID, "callbackUrl": e.app.CallbackURL("refer")}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")
	e.op("transferCallToParticipant", map[string]any{"callConnectionId": connID, "target": "4:" + callee, "operationContext": "xfer"}, nil)
	ev := e.callback(connID, "CallTransferAccepted")
	if !contains(mustJSON(ev.Data()["transferee"]), u.ID) {
		t.Fatalf("CallTransferAccepted = %v", ev.Data())
	}
	e.callback(connID, "CallDisconnected")
	// baresip itself called the target, straight to the trunk's address.
	if ruri, err := uas.WaitLog(ctxTimeout(t, 10*time.Second), "RURI_USER"); err != nil || ruri != callee {
		t.Fatalf("target Request-URI %q (%v)", ruri, err)
	}
	inv, _ := uas.FindMessage(true, "INVITE")
	if !strings.Contains(inv.Header("From"), u.Username) {
		t.Fatalf("the target's INVITE came from %q, not the transferee", inv.Header("From"))
	}
	b.Stop()
}

// In a group call, transferee names who goes: that participant is
// transferred (by REFER) and leaves; the others stay in the call.
func TestTransferGroupParticipant(t *testing.T) {
	uas, o := startCallee(t, "uas_answer.xml", nil)
	e := newEnv(t, o)
	tones := map[byte]float64{'A': 500, 'B': 1100}
	x := startConfPeer(t, e, "lena", tones['A'])
	y := startConfPeer(t, e, "mike", tones['B'])
	var props map[string]any
	e.op("createGroupCall", map[string]any{"targets": []string{x.u.ID, y.u.ID}, "callbackUrl": e.app.CallbackURL("gx")}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")
	rosterMatches(t, e, connID, 2, 0)
	e.op("transferCallToParticipant", map[string]any{"callConnectionId": connID, "target": "4:" + callee, "transferee": y.u.ID, "operationContext": "gx"}, nil)
	ev := e.callback(connID, "CallTransferAccepted")
	if !contains(mustJSON(ev.Data()["transferee"]), y.u.ID) {
		t.Fatalf("CallTransferAccepted = %v", ev.Data())
	}
	if ruri, err := uas.WaitLog(ctxTimeout(t, 10*time.Second), "RURI_USER"); err != nil || ruri != callee {
		t.Fatalf("target Request-URI %q (%v)", ruri, err)
	}
	rosterMatches(t, e, connID, 1, 0) // mike left; lena and the app go on
	var cur map[string]any
	e.op("getCallConnectionProperties", map[string]any{"callConnectionId": connID}, &cur)
	if cur["callConnectionState"] != "connected" {
		t.Fatalf("state after the group transfer: %v", cur["callConnectionState"])
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": true}, nil)
	if _, err := x.b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
}

// In a group call whose transferee refuses REFER, the server bridges: the
// transferee and the target talk in a call of their own and the group call
// goes on without the transferee.
func TestTransferGroupParticipantBridged(t *testing.T) {
	uas, o := startCallee(t, "uas_answer.xml", map[string]string{"hangup_after_ms": "1500"})
	e := newEnv(t, o)
	connID, sipp := answeredCall(t, e, "gb")
	x := startConfPeer(t, e, "nora", 500)
	e.op("addParticipant", map[string]any{"callConnectionId": connID, "target": x.u.ID, "operationContext": "add-x"}, nil)
	e.callback(connID, "AddParticipantSucceeded")
	rosterMatches(t, e, connID, 2, 0)
	e.op("transferCallToParticipant", map[string]any{"callConnectionId": connID, "target": "4:" + callee, "transferee": "4:" + caller, "operationContext": "gb"}, nil)
	ev := e.callback(connID, "CallTransferAccepted")
	if !contains(mustJSON(ev.Data()["transferee"]), caller) {
		t.Fatalf("CallTransferAccepted = %v", ev.Data())
	}
	if v, _ := sipp.LogValue("REFER_REFUSED"); v != "1" {
		t.Fatal("the transferee was not asked to transfer by REFER first")
	}
	if from, _ := uas.LogValue("FROM_USER"); from != caller {
		t.Fatalf("target saw %q, want the transferee %s", from, caller)
	}
	rosterMatches(t, e, connID, 1, 0) // the caller left; nora and the app go on
	// When the target hangs up, the bridge ends and the caller gets BYE.
	if _, err := sipp.WaitLog(ctxTimeout(t, 15*time.Second), "BYE_RECEIVED"); err != nil {
		t.Fatal("the transferee was not hung up when the target left")
	}
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
	uas.WaitSuccess(ctxTimeout(t, 20*time.Second))
	var cur map[string]any
	e.op("getCallConnectionProperties", map[string]any{"callConnectionId": connID}, &cur)
	if cur["callConnectionState"] != "connected" {
		t.Fatalf("group call state after the bridged transfer: %v", cur["callConnectionState"])
	}
	rosterMatches(t, e, connID, 1, 0)
	e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": true}, nil)
	if _, err := x.b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
}

// connect by serverCallId gives a second app its own connection on a
// running call: it hears about the call, can act on it, and the call goes
// on when the first app hangs up.
func TestConnectSecondApp(t *testing.T) {
	files := fileServer(t)
	e := newEnv(t, serverOptions{})
	sipp := startCaller(t, e.sb, "uac_call.xml", nil)
	ic := e.incomingCall("4:" + caller)
	first := e.answer(ic, "first")
	e.callback(first, "CallConnected")

	var props map[string]any
	e.op("connectCall", map[string]any{"serverCallId": ic.DataString("serverCallId"), "callbackUrl": e.app.CallbackURL("second")}, &props)
	second, _ := props["callConnectionId"].(string)
	if second == "" || second == first || props["callConnectionState"] != "connected" {
		t.Fatalf("connectCall = %v", props)
	}
	e.callback(second, "CallConnected")
	pu := e.callback(second, "ParticipantsUpdated")
	if !contains(mustJSON(pu.Data()["participants"]), caller) {
		t.Fatalf("second app's roster %v", pu.Data()["participants"])
	}
	// The second app acts on the call; its events come to it.
	e.op("playToAll", map[string]any{"callConnectionId": second, "fileUrls": []string{files.URL + "/tone.wav"}, "operationContext": "second-play"}, nil)
	done := e.callback(second, "PlayCompleted")
	if done.OperationContext() != "second-play" {
		t.Fatalf("PlayCompleted = %v", done.Data())
	}
	// The first app leaves; the call goes on for the second.
	e.op("hangUp", map[string]any{"callConnectionId": first}, nil)
	e.callback(first, "CallDisconnected")
	var cur map[string]any
	e.op("getCallConnectionProperties", map[string]any{"callConnectionId": second}, &cur)
	if cur["callConnectionState"] != "connected" {
		t.Fatalf("second connection after the first left: %v", cur)
	}
	e.op("hangUp", map[string]any{"callConnectionId": second}, nil)
	e.callback(second, "CallDisconnected")
	if _, err := sipp.WaitLog(ctxTimeout(t, 10*time.Second), "BYE_RECEIVED"); err != nil {
		t.Fatal("the caller was not hung up when the last app left")
	}
	// An unknown call cannot be connected to.
	oe := e.opError("connectCall", map[string]any{"serverCallId": "no-such-call", "callbackUrl": e.app.CallbackURL("x")})
	if oe.StatusCode != 404 {
		t.Fatalf("connect to an unknown call: %d %s", oe.StatusCode, oe.Message)
	}
}

// moveHere takes a participant with its live leg from one call into
// another: no new SIP call, both rosters change, and the emptied call ends.
func TestMoveParticipant(t *testing.T) {
	e := newEnv(t, serverOptions{})
	const other = "+15550007777"
	sa := startCaller(t, e.sb, "uac_call.xml", map[string]string{"caller": other})
	icA := e.incomingCall("4:" + other)
	connA := e.answer(icA, "call-a")
	e.callback(connA, "CallConnected")
	sb := startCaller(t, e.sb, "uac_call.xml", nil)
	connB := e.answer(e.incomingCall("4:"+caller), "call-b")
	e.callback(connB, "CallConnected")

	var res map[string]any
	e.op("moveParticipants", map[string]any{"callConnectionId": connB, "rawIds": []string{"4:" + other}, "fromCall": icA.DataString("serverCallId"), "operationContext": "move"}, &res)
	ev := e.callback(connB, "MoveParticipantSucceeded")
	if !contains(mustJSON(ev.Data()["participant"]), other) || ev.DataString("fromCall") != icA.DataString("serverCallId") {
		t.Fatalf("MoveParticipantSucceeded = %v", ev.Data())
	}
	rosterMatches(t, e, connB, 2, 0)
	e.callback(connA, "CallDisconnected") // call A has nobody left
	// The moved caller was not hung up: its dialog goes on in call B.
	if _, ok := sa.LogValue("BYE_RECEIVED"); ok {
		t.Fatal("the moved caller got BYE")
	}
	e.op("hangUp", map[string]any{"callConnectionId": connB, "forEveryone": true}, nil)
	for _, s := range []*testpeer.SIPpRun{sa, sb} {
		if _, err := s.WaitLog(ctxTimeout(t, 10*time.Second), "BYE_RECEIVED"); err != nil {
			t.Fatal("a caller in call B got no BYE at terminate")
		}
		s.WaitSuccess(ctxTimeout(t, 20*time.Second))
	}
}
