package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

type user struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// A communication user registered from baresip is rung by createCall to its
// 8:acs: id and connects; the audio the server sends reaches baresip.
func TestCreateCallToRegisteredUser(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) { testCreateCallToRegisteredUser(t, transport) })
	}
}

func testCreateCallToRegisteredUser(t *testing.T, transport string) {
	e := newEnv(t, serverOptions{})
	var u user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "alice", "displayName": "Alice"}, &u, 201)
	if u.ID != "8:acs:e2eres_alice" || u.Password == "" {
		t.Fatalf("user = %+v", u)
	}
	rec := filepath.Join(t.TempDir(), "heard.wav")
	b := testpeer.StartBaresip(t, testpeer.BaresipOptions{
		SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr(), AutoAnswer: true, RecordFile: rec, Transport: transport,
	})
	if err := b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}

	var props map[string]any
	e.op("createCall", map[string]any{"target": u.ID, "callbackUrl": e.app.CallbackURL("user")}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")
	if _, err := b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	var parts struct {
		Participants []map[string]any `json:"participants"`
	}
	e.op("listParticipants", map[string]any{"callConnectionId": connID}, &parts)
	if len(parts.Participants) != 1 || !contains(mustJSON(parts.Participants[0]), u.ID) {
		t.Fatalf("participants = %v", parts.Participants)
	}
	time.Sleep(2 * time.Second) // let some audio flow
	e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": true}, nil)
	if _, err := b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	e.callback(connID, "CallDisconnected")
	b.Stop()
	// baresip decoded about two seconds of the server's audio (silence).
	w, err := testpeer.ReadWAV(rec)
	if err != nil {
		t.Fatalf("baresip recorded nothing: %v", err)
	}
	if d := w.Duration(); d < 1.0 {
		t.Fatalf("baresip heard %.2fs of audio, want about 2s", d)
	}

	// A user with no registration cannot be reached: CreateCallFailed 480.
	var bob user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "bob"}, &bob, 201)
	e.op("createCall", map[string]any{"target": bob.ID, "callbackUrl": e.app.CallbackURL("bob")}, &props)
	ev := e.callback(props["callConnectionId"].(string), "CreateCallFailed")
	if !contains(mustJSON(ev.Data()["resultInformation"]), `"code":480`) {
		t.Fatalf("CreateCallFailed = %v", ev.Data()["resultInformation"])
	}
}

// A registered user calling an owned number is an incoming call for it.
func TestRegisteredUserCallsOwnedNumber(t *testing.T) {
	e := newEnv(t, serverOptions{})
	var u user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "carol"}, &u, 201)
	b := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr()})
	if err := b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := b.Dial(ctxTimeout(t, 5*time.Second), "sip:"+ownedNumber+"@"+e.sb.sipAddr()); err != nil {
		t.Fatal(err)
	}
	ic := e.incomingCall(u.ID)
	if to, _ := ic.Data()["to"].(map[string]any); to["rawId"] != "4:"+ownedNumber {
		t.Fatalf("IncomingCall to = %v", ic.Data()["to"])
	}
	connID := e.answer(ic, "carol")
	e.callback(connID, "CallConnected")
	if _, err := b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	if err := b.Hangup(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	dc := e.callback(connID, "CallDisconnected")
	if ri, _ := dc.Data()["resultInformation"].(map[string]any); ri["subCode"] != float64(560000) {
		t.Fatalf("CallDisconnected after the caller hung up = %v", ri)
	}
}

// SIP over TLS: a user registers and calls through the TLS listener.
func TestRegisteredUserOverTLS(t *testing.T) {
	e := newEnv(t, serverOptions{SIPTLS: true})
	if e.sb.TLSPort == 0 {
		t.Fatal("no SIP TLS listener")
	}
	var u user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "dave"}, &u, 201)
	reg := fmt.Sprintf("127.0.0.1:%d", e.sb.TLSPort)
	b := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: reg, Transport: "tls",
		ExtraConfig: []string{"sip_cafile " + e.sb.CAFile}})
	if err := b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := b.Dial(ctxTimeout(t, 5*time.Second), "sip:"+ownedNumber+"@"+reg+";transport=tls"); err != nil {
		t.Fatal(err)
	}
	ic := e.incomingCall(u.ID)
	connID := e.answer(ic, "tls")
	e.callback(connID, "CallConnected")
	if _, err := b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	if _, err := b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
}

// A user registered from two devices: both ring, the first to answer gets
// the call and the other stops ringing.
func TestCallRingsEveryRegistration(t *testing.T) {
	e := newEnv(t, serverOptions{})
	var u user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "erin"}, &u, 201)
	desk := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr()})
	phone := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr()})
	for _, b := range []*testpeer.Baresip{desk, phone} {
		if err := b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	var props map[string]any
	e.op("createCall", map[string]any{"target": u.ID, "callbackUrl": e.app.CallbackURL("fork")}, &props)
	connID := props["callConnectionId"].(string)
	for _, b := range []*testpeer.Baresip{desk, phone} {
		if _, err := b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_INCOMING"); err != nil {
			t.Fatalf("a registration did not ring: %v", err)
		}
	}
	if err := phone.Accept(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	e.callback(connID, "CallConnected")
	if _, err := desk.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal("the other registration kept ringing")
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	if _, err := phone.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
}

// sendDtmfTones reaches the peer as RFC 4733 events that baresip detects.
func TestSendDTMFToBaresip(t *testing.T) {
	e := newEnv(t, serverOptions{})
	var u user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "gina"}, &u, 201)
	b := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr(), AutoAnswer: true})
	if err := b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	var props map[string]any
	e.op("createCall", map[string]any{"target": u.ID, "callbackUrl": e.app.CallbackURL("send")}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")
	st, body := e.sb.do("POST", "/calling/callConnections/"+connID+":sendDtmfTones"+v,
		[]byte(`{"tones":["one","two","pound","nine"],"targetParticipant":{"rawId":"`+u.ID+`"},"operationContext":"send"}`), nil)
	if st != 202 || !contains(string(body), `"operationContext":"send"`) {
		t.Fatalf("sendDtmfTones: %d %s", st, body)
	}
	e.callback(connID, "SendDtmfTonesCompleted")
	var got []string
	waitFor(t, "baresip to detect the digits", 10*time.Second, func() bool {
		got = got[:0]
		for _, ev := range b.AllEvents() {
			if ev.Type == "CALL_DTMF_START" {
				got = append(got, ev.Param)
			}
		}
		return len(got) >= 4
	})
	if fmt.Sprint(got) != "[1 2 # 9]" {
		t.Fatalf("baresip detected %v", got)
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
}

// baresip presses keys (sndcode, RFC 4733): recognize collects them up to
// the stop tone.
func TestRecognizeDTMFFromBaresip(t *testing.T) {
	e := newEnv(t, serverOptions{})
	var u user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "ivan"}, &u, 201)
	b := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr(), AutoAnswer: true})
	if err := b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	var props map[string]any
	e.op("createCall", map[string]any{"target": u.ID, "callbackUrl": e.app.CallbackURL("keys")}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")
	st, body := e.sb.do("POST", "/calling/callConnections/"+connID+":recognize"+v, []byte(`{"recognizeInputType":"dtmf",`+
		`"recognizeOptions":{"targetParticipant":{"rawId":"`+u.ID+`"},"initialSilenceTimeoutInSeconds":10,`+
		`"dtmfOptions":{"interToneTimeoutInSeconds":5,"maxTonesToCollect":4,"stopTones":["pound"]}}}`), nil)
	if st != 202 {
		t.Fatalf("recognize: %d %s", st, body)
	}
	for _, k := range []string{"7", "0", "#"} {
		if _, err := b.Command(ctxTimeout(t, 5*time.Second), "sndcode", k); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // one key at a time, as a person presses them
	}
	ev := e.callback(connID, "RecognizeCompleted")
	ri, _ := ev.Data()["resultInformation"].(map[string]any)
	if got := fmt.Sprint(ev.Data()["dtmfResult"]); got != "map[tones:[seven zero pound]]" || ri["subCode"] != float64(8514) {
		t.Fatalf("RecognizeCompleted = %v", ev.Data())
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
}

// Redirect to a user on two devices rings both at once; the second device
// answers, gets the caller, and the first stops ringing.
func TestRedirectRingsAllDevices(t *testing.T) {
	e := newEnv(t, serverOptions{})
	var u user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "nina"}, &u, 201)
	desk := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr()})
	phone := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr()})
	for _, b := range []*testpeer.Baresip{desk, phone} {
		if err := b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	sipp := startCaller(t, e.sb, "uac_call.xml", nil)
	ic := e.incomingCall("4:" + caller)
	e.op("redirectCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "target": u.ID}, nil)
	for _, b := range []*testpeer.Baresip{desk, phone} {
		if _, err := b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_INCOMING"); err != nil {
			t.Fatal("a device did not ring")
		}
	}
	if err := phone.Accept(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := sipp.WaitLog(ctxTimeout(t, 10*time.Second), "ANSWER_PT"); err != nil {
		t.Fatal("the caller was not connected")
	}
	if _, err := desk.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal("the other device kept ringing")
	}
	if err := phone.Hangup(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := sipp.WaitLog(ctxTimeout(t, 10*time.Second), "BYE_RECEIVED"); err != nil {
		t.Fatal("the caller got no BYE when the device hung up")
	}
}
