package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// Adding a communication user whose calls an app automates raises an
// IncomingCall for that user (with the adder's VoIP headers); the app that
// answers joins the call as the user with a connection of its own. An app
// that rejects makes the add fail with the matching SIP status.
func TestAddAutomatedUser(t *testing.T) {
	files := fileServer(t)
	e := newEnv(t, serverOptions{})
	const bot = "8:acs:e2eres_bot"
	e.subscribeWith(map[string]any{"name": "bot", "endpointUrl": e.app.EventGridURL(),
		"eventTypes": []string{"Microsoft.Communication.IncomingCall"}, "to": []string{bot}})
	connID, sipp := answeredCall(t, e, "adder")

	botCall := func(opContext string) testpeer.Event {
		t.Helper()
		e.op("addParticipant", map[string]any{"callConnectionId": connID, "target": bot, "operationContext": opContext,
			"invitationTimeoutInSeconds": 20, "voipHeaders": map[string]string{"order": opContext}}, nil)
		ev, err := e.app.WaitEvent(ctxTimeout(t, 20*time.Second), func(ev testpeer.Event) bool {
			if ev.EventType != "Microsoft.Communication.IncomingCall" {
				return false
			}
			to, _ := ev.Data()["to"].(map[string]any)
			cc, _ := ev.Data()["customContext"].(map[string]any)
			vh, _ := cc["voipHeaders"].(map[string]any)
			return to["rawId"] == bot && vh["order"] == opContext
		})
		if err != nil {
			t.Fatalf("no IncomingCall for %s carrying the VoIP header: %v", bot, err)
		}
		return ev
	}
	addOutcome := func(opContext string) testpeer.Event {
		t.Helper()
		ev, err := e.app.WaitEvent(ctxTimeout(t, 20*time.Second), func(ev testpeer.Event) bool {
			return ev.OperationContext() == opContext && strings.HasPrefix(ev.ParsedKind, "AddParticipant")
		})
		if err != nil {
			t.Fatalf("no AddParticipant outcome for %s: %v", opContext, err)
		}
		return ev
	}

	// Rejected as busy: the add fails with 486 and nobody joins.
	ic := botCall("busy")
	e.op("rejectCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "reason": "busy"}, nil)
	if ev := addOutcome("busy"); ev.ParsedKind != "AddParticipantFailed" {
		t.Fatalf("after reject: %s", ev.ParsedKind)
	} else if sd, _ := ev.Data()["resultInformation"].(map[string]any)["sipDetails"].(map[string]any); sd["code"] != float64(486) {
		t.Fatalf("AddParticipantFailed resultInformation = %v", ev.Data()["resultInformation"])
	}
	rosterMatches(t, e, connID, 1, 0)

	// Redirected: the invitation rings the new target by SIP, who joins.
	ic = botCall("redirect")
	rita := startConfPeer(t, e, "rita", 500)
	e.op("redirectCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "target": rita.u.ID}, nil)
	if ev := addOutcome("redirect"); ev.ParsedKind != "AddParticipantSucceeded" || !contains(mustJSON(ev.Data()["participant"]), rita.u.ID) {
		t.Fatalf("after redirect: %s %v", ev.ParsedKind, ev.Data())
	}
	waitJoined(t, rita)
	rosterMatches(t, e, connID, 2, 0)
	e.op("removeParticipant", map[string]any{"callConnectionId": connID, "rawId": rita.u.ID}, nil)
	waitClosed(t, rita)
	rosterMatches(t, e, connID, 1, 0)

	// Answered: the app joins as the user.
	ic = botCall("join")
	botConn := e.answer(ic, "bot")
	e.callback(botConn, "CallConnected")
	if ev := addOutcome("join"); ev.ParsedKind != "AddParticipantSucceeded" {
		t.Fatalf("after answer: %s", ev.ParsedKind)
	}
	rosterMatches(t, e, connID, 2, 0)
	rosterMatches(t, e, botConn, 2, 0)
	// Its context cannot be used twice.
	if oe := e.opError("answerCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "callbackUrl": e.app.CallbackURL("bot2")}); oe.StatusCode != 400 {
		t.Fatalf("second answer: %d %s", oe.StatusCode, oe.Message)
	}
	// The user has no audio of its own, but its app speaks to the call.
	if oe := e.opError("play", map[string]any{"callConnectionId": connID, "fileUrls": []string{files.URL + "/tone.wav"}, "playTo": []string{bot}}); oe.StatusCode != 400 {
		t.Fatalf("play to the bot: %d %s", oe.StatusCode, oe.Message)
	}
	e.op("playToAll", map[string]any{"callConnectionId": botConn, "fileUrls": []string{files.URL + "/tone.wav"}, "operationContext": "bot-says"}, nil)
	e.callback(botConn, "PlayCompleted")

	// The bot's app hangs up: the user leaves, the call goes on.
	e.op("hangUp", map[string]any{"callConnectionId": botConn}, nil)
	e.callback(botConn, "CallDisconnected")
	rosterMatches(t, e, connID, 1, 0)
	e.op("getCallConnectionProperties", map[string]any{"callConnectionId": connID}, nil)

	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	e.callback(connID, "CallDisconnected")
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// connect by group call id starts an empty conference under that id; a
// second app connecting with the same id joins the same call; the apps add
// peers who then hear each other; a room id is a separate call.
func TestConnectGroupCallAndRoom(t *testing.T) {
	e := newEnv(t, serverOptions{})
	var first, second, room map[string]any
	e.op("connectCall", map[string]any{"groupCallId": "standup", "callbackUrl": e.app.CallbackURL("g1")}, &first)
	g1 := findString(first, "callConnectionId")
	e.callback(g1, "CallConnected")
	rosterMatches(t, e, g1, 0, 0)
	e.op("connectCall", map[string]any{"groupCallId": "standup", "callbackUrl": e.app.CallbackURL("g2")}, &second)
	g2 := findString(second, "callConnectionId")
	e.callback(g2, "CallConnected")
	if findString(first, "serverCallId") == "" || findString(first, "serverCallId") != findString(second, "serverCallId") {
		t.Fatalf("two connects to one group call id got different calls: %v / %v", first, second)
	}
	e.op("connectCall", map[string]any{"roomId": "standup", "callbackUrl": e.app.CallbackURL("r1")}, &room)
	if findString(room, "serverCallId") == findString(first, "serverCallId") {
		t.Fatal("a room and a group call with the same id share a call")
	}
	r1 := findString(room, "callConnectionId")
	e.callback(r1, "CallConnected")

	tones := map[byte]float64{'A': 500, 'B': 1100}
	x := startConfPeer(t, e, "xena", tones['A'])
	y := startConfPeer(t, e, "yuri", tones['B'])
	e.op("addParticipant", map[string]any{"callConnectionId": g1, "target": x.u.ID, "operationContext": "add-x"}, nil)
	e.op("addParticipant", map[string]any{"callConnectionId": g2, "target": y.u.ID, "operationContext": "add-y"}, nil)
	waitJoined(t, x, y)
	rosterMatches(t, e, g1, 2, 0)
	rosterMatches(t, e, g2, 2, 0)
	rosterMatches(t, e, r1, 0, 0)
	time.Sleep(2 * time.Second)
	// One app leaves; the call goes on for the other.
	e.op("hangUp", map[string]any{"callConnectionId": g1}, nil)
	e.callback(g1, "CallDisconnected")
	rosterMatches(t, e, g2, 2, 0)
	e.op("hangUp", map[string]any{"callConnectionId": g2, "forEveryone": true}, nil)
	waitClosed(t, x, y)
	mustHearEachOther(t, tones, x, y)
	// The group call ended with its terminate; the same id starts a new one.
	var again map[string]any
	e.op("connectCall", map[string]any{"groupCallId": "standup", "callbackUrl": e.app.CallbackURL("g3")}, &again)
	if findString(again, "serverCallId") == findString(first, "serverCallId") {
		t.Fatal("connect after terminate joined the ended call")
	}
	e.op("hangUp", map[string]any{"callConnectionId": findString(again, "callConnectionId")}, nil)
	e.op("hangUp", map[string]any{"callConnectionId": r1}, nil)
	e.callback(r1, "CallDisconnected")
}
