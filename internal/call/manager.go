package call

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
	"github.com/switchboard-oss/switchboard/internal/speech/stt"
)

// Config is the call core's part of the configuration.
type Config struct {
	RingTimeout   time.Duration
	DialTimeout   time.Duration
	MaxConcurrent int     // 0: unlimited
	MaxSetupRate  float64 // new calls per second; 0: unlimited
	// TombstoneTTL is how long an ended call is remembered, so that late
	// requests get a clear answer instead of "not found".
	TombstoneTTL time.Duration
}

// Manager creates calls and finds them for the API and the SIP layer.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	media   *media.Engine
	sig     Signaling
	events  EventSink
	records RecordSink
	prompts PromptLoader
	speech  stt.Engine // nil: no speech recognition
	ctxKey  []byte

	mu       sync.Mutex
	calls    map[string]*Call // by serverCallId
	conns    map[string]*Call // by callConnectionId
	ended    *graveyard
	meetings map[string]*Call // group calls and rooms by meetingKey
	draining bool
	adm      admission
	wg       sync.WaitGroup
}

// tombstone remembers how an ended call ended.
type tombstone struct {
	at     time.Time
	reason string
	props  acs.CallConnectionProperties // of its connection, if it had one
}

// Deps are the Manager's collaborators.
type Deps struct {
	Log       *slog.Logger
	Now       func() time.Time
	Media     *media.Engine
	Signaling Signaling // may be set later with SetSignaling
	Events    EventSink
	Records   RecordSink
	Prompts   PromptLoader // for play; may be nil (plays then fail)
	Speech    stt.Engine   // for recognizing speech; may be nil
}

// NewManager returns a Manager.
func NewManager(cfg Config, d Deps) *Manager {
	if d.Now == nil {
		d.Now = time.Now
	}
	if cfg.TombstoneTTL == 0 {
		cfg.TombstoneTTL = 10 * time.Minute
	}
	key := make([]byte, 32)
	rand.Read(key)
	return &Manager{
		cfg: cfg, log: d.Log, now: d.Now, media: d.Media, sig: d.Signaling, events: d.Events, records: d.Records,
		prompts: d.Prompts, speech: d.Speech, ctxKey: key, calls: map[string]*Call{}, conns: map[string]*Call{}, ended: newGraveyard(cfg.TombstoneTTL),
		meetings: map[string]*Call{},
	}
}

// SetSignaling sets the signalling layer (which itself needs the Manager).
func (m *Manager) SetSignaling(s Signaling) { m.sig = s }

// Active returns the number of calls in progress.
func (m *Manager) Active() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

func (m *Manager) register(c *Call) {
	m.mu.Lock()
	m.calls[c.serverCallID] = c
	m.wg.Add(1)
	m.mu.Unlock()
}

func (m *Manager) addConn(id string, c *Call) {
	m.mu.Lock()
	m.conns[id] = c
	m.mu.Unlock()
}

// unregister forgets an ended call, leaving a tombstone.
func (m *Manager) unregister(c *Call, t tombstone) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.calls, c.serverCallID)
	if c.meeting != "" && m.meetings[c.meeting] == c {
		delete(m.meetings, c.meeting)
	}
	m.ended.lay(c.serverCallID, t)
	if c.conn != nil {
		delete(m.conns, c.conn.id)
		m.ended.lay(c.conn.id, t)
	}
	for _, cn := range c.others {
		delete(m.conns, cn.id)
		m.ended.lay(cn.id, tombstone{at: t.at, reason: t.reason})
	}
	m.wg.Done()
}

// dropConn forgets a connection that left a call which goes on.
func (m *Manager) dropConn(id string) {
	m.mu.Lock()
	delete(m.conns, id)
	m.ended.lay(id, tombstone{at: m.now(), reason: "app-left"})
	m.mu.Unlock()
}

// byConnection finds the live call of a call connection, or explains why not.
func (m *Manager) byConnection(id string) (*Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.conns[id]; ok {
		return c, nil
	}
	if t, ok := m.ended.get(id); ok {
		return nil, acs.NotFound("call connection %s has ended (%s)", id, t.reason)
	}
	return nil, acs.NotFound("call connection %s was not found", id)
}

// byContext finds the call an incomingCallContext names, and the
// invitation when it asks an app to join as an added participant.
func (m *Manager) byContext(token string) (*Call, string, error) {
	p, err := openContext(m.ctxKey, token, m.now())
	if err != nil {
		return nil, "", acs.BadRequest("%v", err)
	}
	c, err := m.byServerCallID(p.ServerCallID)
	return c, p.Invitation, err
}

// byServerCallID finds a live call, or explains why not.
func (m *Manager) byServerCallID(id string) (*Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.calls[id]; ok {
		return c, nil
	}
	if t, ok := m.ended.get(id); ok {
		return nil, acs.InvalidState("the call can no longer be acted on: it has ended (%s)", t.reason)
	}
	return nil, acs.NotFound("the call %s was not found", id)
}

// Shutdown refuses new calls, waits for active calls to end until ctx is
// done, then hangs up the rest and waits for them to finish.
func (m *Manager) Shutdown(ctx context.Context) {
	m.mu.Lock()
	m.draining = true
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	m.mu.Lock()
	calls := make([]*Call, 0, len(m.calls))
	for _, c := range m.calls {
		calls = append(calls, c)
	}
	m.mu.Unlock()
	for _, c := range calls {
		c.post(c.shutdown)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		m.log.Warn("calls did not end in time at shutdown", "calls", len(calls))
	}
}

func newID() string { return uuid.NewString() }

// errCallEnded is returned by commands that reach a call after it ended.
var errCallEnded = errors.New("call has ended")
