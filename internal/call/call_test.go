package call

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
	"github.com/switchboard-oss/switchboard/internal/store"
)

// The call core is tested here with fake signalling and event sinks and a
// real media engine on loopback; internal/e2e tests it with real peers.

const offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"

type fakeLeg struct {
	mu       sync.Mutex
	onEnd    func(EndCause)
	rang     bool
	accepted []byte
	acked    func(error)
	rejected int
	hungUp   bool
}

func (l *fakeLeg) SIPCallID() string { return "fake-call-id" }
func (l *fakeLeg) OnEnd(f func(EndCause)) {
	l.mu.Lock()
	l.onEnd = f
	l.mu.Unlock()
}
func (l *fakeLeg) Hangup(context.Context) error {
	l.mu.Lock()
	l.hungUp = true
	l.mu.Unlock()
	return nil
}
func (l *fakeLeg) RemoteSDP() []byte       { return []byte(offer) }
func (l *fakeLeg) OnDTMF(func(byte))       {}
func (l *fakeLeg) OnReferStatus(func(int)) {}
func (l *fakeLeg) Refer(context.Context, acs.Identifier) error {
	return &DialError{Status: 405, Reason: "Method Not Allowed"}
}
func (l *fakeLeg) Ring() error {
	l.mu.Lock()
	l.rang = true
	l.mu.Unlock()
	return nil
}
func (l *fakeLeg) Accept(sdp []byte, acked func(error)) error {
	l.mu.Lock()
	l.accepted, l.acked = sdp, acked
	l.mu.Unlock()
	return nil
}
func (l *fakeLeg) Reject(status int, _ string) error {
	l.mu.Lock()
	l.rejected = status
	l.mu.Unlock()
	return nil
}
func (l *fakeLeg) end(c EndCause) {
	l.mu.Lock()
	f := l.onEnd
	l.mu.Unlock()
	f(c)
}
func (l *fakeLeg) state() (rejected int, hungUp bool, acked func(error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rejected, l.hungUp, l.acked
}

type event struct {
	kind string // "callback" or "subscription"
	typ  string
	data any
}

type fakeSink struct {
	mu      sync.Mutex
	events  []event
	records []store.CallRecord
}

func (s *fakeSink) Callback(_ context.Context, _, _, typ string, data any) error {
	s.mu.Lock()
	s.events = append(s.events, event{"callback", typ, data})
	s.mu.Unlock()
	return nil
}
func (s *fakeSink) Subscription(_ context.Context, typ, _ string, _ acs.Identifier, _ string, data any, _ string, _ time.Time) error {
	s.mu.Lock()
	s.events = append(s.events, event{"subscription", typ, data})
	s.mu.Unlock()
	return nil
}
func (s *fakeSink) Expire(string) {}

func (s *fakeSink) Automated(acs.Identifier) bool { return false }
func (s *fakeSink) SaveCallRecord(_ context.Context, r store.CallRecord) error {
	s.mu.Lock()
	s.records = append(s.records, r)
	s.mu.Unlock()
	return nil
}

// callbacks lists the callback event types so far.
func (s *fakeSink) callbacks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.events {
		if e.kind == "callback" {
			out = append(out, e.typ)
		}
	}
	return out
}

func (s *fakeSink) find(typ string) (event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e.typ == typ {
			return e, true
		}
	}
	return event{}, false
}

type fakeSignaling struct {
	dial func(ctx context.Context, req DialRequest) (Leg, []byte, error)
}

func (f fakeSignaling) Dial(ctx context.Context, req DialRequest) (Leg, []byte, error) {
	return f.dial(ctx, req)
}

func newTestManager(t *testing.T, ring time.Duration) (*Manager, *fakeSink) {
	t.Helper()
	eng, err := media.NewEngine(media.Config{BindIP: "127.0.0.1", AdvertiseIP: "127.0.0.1"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go eng.Run(ctx)
	t.Cleanup(cancel)
	sink := &fakeSink{}
	m := NewManager(Config{RingTimeout: ring, DialTimeout: time.Second},
		Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Media: eng, Events: sink, Records: sink})
	return m, sink
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// incoming starts an incoming call and returns its leg and context.
func incoming(t *testing.T, m *Manager, sink *fakeSink) (*fakeLeg, string) {
	t.Helper()
	leg := &fakeLeg{}
	m.Incoming(Incoming{From: acs.PhoneNumber("+15550001111"), To: acs.PhoneNumber("+14255550100"), Leg: leg})
	var ic event
	eventually(t, "IncomingCall", func() bool {
		var ok bool
		ic, ok = sink.find(acs.EventIncomingCall)
		return ok
	})
	return leg, ic.data.(acs.IncomingCallData).IncomingCallContext
}

func TestAnswerThenHangUp(t *testing.T) {
	m, sink := newTestManager(t, time.Minute)
	leg, ctxTok := incoming(t, m, sink)
	props, err := m.Answer(context.Background(), AnswerRequest{IncomingCallContext: ctxTok, CallbackURI: "https://app.example/cb", OperationContext: "op1"})
	if err != nil || props.CallConnectionState != acs.StateConnecting || props.CallConnectionID == "" {
		t.Fatalf("Answer = %+v, %v", props, err)
	}
	// A second answer of the same call fails.
	if _, err := m.Answer(context.Background(), AnswerRequest{IncomingCallContext: ctxTok, CallbackURI: "https://x/cb"}); err == nil {
		t.Fatal("answered twice")
	}
	_, _, acked := leg.state()
	acked(nil) // the caller's ACK
	eventually(t, "CallConnected", func() bool { return len(sink.callbacks()) == 2 })
	if got := strings.Join(sink.callbacks(), ","); got != "ParticipantsUpdated,CallConnected" {
		t.Fatalf("callbacks %s", got)
	}
	if p, _ := m.Properties(context.Background(), props.CallConnectionID); p.CallConnectionState != acs.StateConnected {
		t.Fatalf("state %s", p.CallConnectionState)
	}
	if err := m.Hangup(context.Background(), props.CallConnectionID, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "BYE", func() bool { _, hung, _ := leg.state(); return hung })
	ev, _ := sink.find(acs.EventCallDisconnected)
	if d := ev.data.(acs.CallEventData); d.ResultInformation.SubCode != 7000 || d.OperationContext != "op1" {
		t.Fatalf("CallDisconnected = %+v", d)
	}
	if p, err := m.Properties(context.Background(), props.CallConnectionID); err != nil || p.CallConnectionState != acs.StateDisconnected {
		t.Fatalf("after hang-up: %+v, %v", p, err)
	}
	if err := m.Hangup(context.Background(), props.CallConnectionID, false); err == nil {
		t.Fatal("second hang-up succeeded")
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.records) != 1 || sink.records[0].EndReason != "hangup-api" || sink.records[0].AnsweredAt == nil {
		t.Fatalf("records %+v", sink.records)
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	m, sink := newTestManager(t, time.Minute)
	leg, ctxTok := incoming(t, m, sink)
	leg.end(EndCanceled)
	eventually(t, "call ended", func() bool { return m.Active() == 0 })
	_, err := m.Answer(context.Background(), AnswerRequest{IncomingCallContext: ctxTok, CallbackURI: "https://app.example/cb"})
	var ae *acs.Error
	if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.Message, "canceled") {
		t.Fatalf("late answer: %v", err)
	}
	if len(sink.callbacks()) != 0 {
		t.Fatalf("callbacks for an unanswered call: %v", sink.callbacks())
	}
}

func TestRejectAndRingTimeout(t *testing.T) {
	m, sink := newTestManager(t, 200*time.Millisecond)
	leg, ctxTok := incoming(t, m, sink)
	if err := m.Reject(context.Background(), ctxTok, "busy"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "486", func() bool { r, _, _ := leg.state(); return r == 486 })

	// Nobody acts on the next call: the caller gets 480 after the ring timeout.
	leg3 := &fakeLeg{}
	m.Incoming(Incoming{From: acs.PhoneNumber("+15550001112"), To: acs.PhoneNumber("+14255550100"), Leg: leg3})
	eventually(t, "480 after the ring timeout", func() bool { r, _, _ := leg3.state(); return r == 480 })
}

func TestCreateCallFailure(t *testing.T) {
	m, sink := newTestManager(t, time.Minute)
	m.SetSignaling(fakeSignaling{dial: func(ctx context.Context, req DialRequest) (Leg, []byte, error) {
		if req.CallerID.Phone() != "+14255550100" || !strings.Contains(string(req.SDP), "m=audio") {
			t.Errorf("dial request %+v", req)
		}
		return nil, nil, &DialError{Status: 486, Reason: "Busy Here"}
	}})
	props, err := m.Create(context.Background(), CreateRequest{Targets: []acs.Identifier{acs.PhoneNumber("+15551230000")}, CallerID: acs.PhoneNumber("+14255550100"), CallbackURI: "https://app.example/cb"})
	if err != nil || props.CallConnectionState != acs.StateConnecting {
		t.Fatalf("Create = %+v, %v", props, err)
	}
	eventually(t, "CreateCallFailed", func() bool { _, ok := sink.find(acs.EventCreateCallFailed); return ok })
	ev, _ := sink.find(acs.EventCreateCallFailed)
	ri := ev.data.(acs.CallEventData).ResultInformation
	if ri.SIPDetails == nil || ri.SIPDetails.Code != 486 || ri.SubCode != 560486 {
		t.Fatalf("resultInformation %+v", ri)
	}
	eventually(t, "call ended", func() bool { return m.Active() == 0 })
	if _, ok := sink.find(acs.EventCallDisconnected); ok {
		t.Fatal("CallDisconnected after CreateCallFailed")
	}
}

func TestCallLimitAndShutdown(t *testing.T) {
	m, sink := newTestManager(t, time.Minute)
	m.cfg.MaxConcurrent = 1
	leg, _ := incoming(t, m, sink)
	over := &fakeLeg{}
	m.Incoming(Incoming{From: acs.PhoneNumber("+15550009999"), To: acs.PhoneNumber("+14255550100"), Leg: over})
	if r, _, _ := over.state(); r != 503 {
		t.Fatalf("over the limit: %d", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	m.Shutdown(ctx) // the ringing call is refused with 503 when the grace ends
	eventually(t, "503 for the ringing call at shutdown", func() bool { r, _, _ := leg.state(); return r == 503 })
	if _, err := m.Create(context.Background(), CreateRequest{Targets: []acs.Identifier{acs.PhoneNumber("+1555")}, CallbackURI: "https://x/cb"}); err == nil {
		t.Fatal("call created while shutting down")
	}
}
