package call

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
	"github.com/switchboard-oss/switchboard/internal/store"
)

// state is where a call is in its life.
type state int

const (
	stateRinging     state = iota + 1 // inbound, waiting for the app
	stateRedirecting                  // inbound, dialing the redirect target
	stateDialing                      // outbound, waiting for the callee
	stateAnswering                    // 200 OK sent, waiting for ACK
	stateConnected                    // media flowing
	stateEnded
)

// endReason is how a call ended; it picks the events and the call record.
type endReason struct {
	name   string // call record end_reason
	result acs.ResultInformation
}

var (
	endAPI            = endReason{"hangup-api", acs.ResultEndedByAPI}
	endRemote         = endReason{"remote-bye", acs.ResultConversationEnded}
	endMediaTimeout   = endReason{"media-timeout", acs.ResultMediaTimeout}
	endServerShutdown = endReason{"server-shutdown", acs.ResultServerShutdown}
)

// participant is one remote party: a SIP leg and its media leg.
type participant struct {
	id    acs.Identifier
	leg   Leg         // nil for an app answering for the participant
	media *media.Leg  // nil for an app answering for the participant
	bot   *connection // the app's connection when an app answered for id
	muted bool
	hold  bool
	gone  bool // leg ended by the peer; do not send BYE
	moved bool // gone to another call with its leg: do not hang up or close
	// inband: in-band DTMF detection is on for the leg (see syncInband).
	inband bool

	holdMixer  *media.Mixer // while on hold: the participant hears only this
	continuous *continuous  // continuous DTMF recognition, if started
}

// connection is an app's handle on the call.
type connection struct {
	id               string
	callbackURI      string
	operationContext string
	apiVersion       string
	state            string
	seq              int // ParticipantsUpdated sequenceNumber
	toneSeq          int // ContinuousDtmfRecognitionToneReceived sequenceId
	source           acs.Identifier
	callerID         *acs.PhoneNumberModel
	displayName      string
	targets          []acs.Identifier
	answeredFor      *acs.PhoneNumberModel
}

// Call is one call, owned by the goroutine in run.
type Call struct {
	m             *Manager
	log           *slog.Logger
	serverCallID  string
	correlationID string
	direction     string // inbound or outbound
	inbox         chan func()
	done          chan struct{}

	// Owned by the run goroutine.
	state        state
	from, to     acs.Identifier
	displayName  string
	parts        []*participant
	conn         *connection
	others       []*connection          // apps that connected to the call later
	meeting      string                 // the group call or room id it runs under, if any
	refs         map[*media.Leg]*legRef // this call's media legs and their event routing
	mixer        *media.Mixer
	incoming     InboundLeg // inbound leg until answered or refused
	answerSDP    []byte
	incomingCtx  string
	ringTimer    *time.Timer
	cancelDial   context.CancelFunc
	startedAt    time.Time
	answeredAt   time.Time
	sipStatus    int
	resultSub    int
	pending      *participant  // the caller, until the call is connected
	ops          []*mediaOp    // media operations: the head runs, the rest wait
	sends        []*sendOp     // sendDtmfTones in progress
	invites      []*invitation // addParticipant dials in progress
	pendingDials int           // createCall targets still ringing
	transfer     *transferOp   // a transfer in progress
}

func (m *Manager) newCall(direction string, from, to acs.Identifier) *Call {
	c := &Call{
		m: m, serverCallID: newServerCallID(), correlationID: newID(), direction: direction,
		inbox: make(chan func(), 64), done: make(chan struct{}), refs: map[*media.Leg]*legRef{},
		from: from, to: to, startedAt: m.now(),
	}
	c.log = m.log.With("server_call_id", c.serverCallID, "correlation_id", c.correlationID)
	c.mixer = m.media.NewMixer()
	return c
}

// run is the call's owner loop: every change to the call happens here.
func (c *Call) run() {
	defer close(c.done)
	for f := range c.inbox {
		f()
		if c.state == stateEnded {
			return
		}
	}
}

// post queues f on the call's goroutine. It reports false, dropping f, once
// the call has ended.
func (c *Call) post(f func()) bool {
	select {
	case c.inbox <- f:
		return true
	case <-c.done:
		return false
	}
}

// do runs f on the call's goroutine and waits for its result.
func (c *Call) do(ctx context.Context, f func() error) error {
	res := make(chan error, 1)
	select {
	case c.inbox <- func() { res <- f() }:
	case <-c.done:
		return acs.NotFound("the call has ended")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-res:
		return err
	case <-c.done:
		// f may have ended the call and answered just before run returned.
		select {
		case err := <-res:
			return err
		default:
			return acs.NotFound("the call has ended")
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mediaHandler routes a media leg's events to the call's goroutine.
type mediaHandler struct{ ref *legRef }

// legRef names the leg a handler serves and the call that owns it now (a
// participant moved to another call takes its leg along).
type legRef struct {
	leg   *media.Leg
	owner atomic.Pointer[Call]
}

// newMediaLeg creates a media leg whose events reach this call.
func (c *Call) newMediaLeg() (*media.Leg, error) {
	ref := &legRef{}
	ref.owner.Store(c)
	ml, err := c.m.media.NewLeg(mediaHandler{ref})
	ref.leg = ml
	if err == nil {
		c.refs[ml] = ref
	}
	return ml, err
}

func (h mediaHandler) DTMF(ev media.DTMFEvent) {
	c := h.ref.owner.Load()
	c.post(func() {
		c.log.Debug("dtmf received", "digit", string(ev.Digit))
		for _, p := range c.parts {
			if p.media == h.ref.leg && !p.gone {
				c.onDTMF(p, ev.Digit)
			}
		}
	})
}

func (h mediaHandler) Inactive() {
	c := h.ref.owner.Load()
	c.post(func() {
		if c.state == stateConnected {
			c.log.Info("no RTP from the peer; ending the call")
			c.end(endMediaTimeout)
		}
	})
}

// addParticipant puts a remote party into the call and its media into the mix.
func (c *Call) addParticipant(p *participant) {
	c.parts = append(c.parts, p)
	if p.media == nil {
		return // an app: no audio, no SIP leg
	}
	c.mixer.Add(p.media)
	p.media.Start()
	p.leg.OnDTMF(func(d byte) { c.post(func() { c.onDTMF(p, d) }) })
	p.inband = true // a leg starts with it on
	c.syncInband()
}

// watch routes the end of p's leg to legEnded.
func (c *Call) watch(p *participant) {
	p.leg.OnEnd(func(cause EndCause) { c.post(func() { c.legEnded(p, cause) }) })
}

// legEnded handles a peer ending its leg. A call the app controls goes on
// while anyone is left; a redirect bridge (no app) ends when a party leaves.
func (c *Call) legEnded(p *participant, cause EndCause) {
	if p.gone || c.state == stateEnded {
		return
	}
	c.log.Info("participant left", "participant", p.id.RawID, "cause", cause.String())
	c.dropParticipant(p, false)
	c.afterLeave()
}

// connected marks the app's connection connected and tells the app.
func (c *Call) connected() {
	c.state = stateConnected
	c.answeredAt = c.m.now()
	if c.conn != nil {
		c.conn.state = acs.StateConnected
		c.emitParticipantsUpdated()
		c.emit(acs.EventCallConnected, &acs.ResultOK, nil)
	}
	c.subscriptionEvent(acs.EventCallStarted, acs.CallLifecycleData{
		ServerCallID: c.serverCallID, CorrelationID: c.correlationID,
		From: c.from.Model(), To: c.to.Model(), StartTime: c.answeredAt.UTC().Format(time.RFC3339Nano),
	})
	for _, p := range c.parts {
		c.subscriptionEvent(acs.EventParticipantAdded, acs.ParticipantLifecycleData{
			ServerCallID: c.serverCallID, CorrelationID: c.correlationID, Participant: p.id.Model(),
		})
	}
}

// end ends the call: every leg is hung up, the app and subscriptions are told,
// the call record is written, and the run loop exits.
func (c *Call) end(r endReason) {
	if c.state == stateEnded {
		return
	}
	wasConnected := c.state == stateConnected
	c.state = stateEnded
	if c.ringTimer != nil {
		c.ringTimer.Stop()
	}
	if c.cancelDial != nil {
		c.cancelDial()
	}
	c.m.events.Expire(incomingTag(c.serverCallID))
	c.cancelOps() // every pending operation gets its one terminal event first
	for _, inv := range c.invites {
		inv.cancel() // their dials end; added() sees the call ended
	}
	if c.transfer != nil {
		c.transfer.cancel()
	}
	for len(c.sends) > 0 {
		c.finishSend(c.sends[0], acs.EventSendDTMFFailed, acs.ResultCanceled)
	}
	var rtp media.Stats
	for _, p := range c.parts {
		if p.media == nil {
			continue // an app: its connection is told below
		}
		st := p.media.Stats()
		rtp.PacketsIn += st.PacketsIn
		rtp.PacketsOut += st.PacketsOut
		rtp.Malformed += st.Malformed + st.UnexpectedPT
		if !p.gone {
			leg := p.leg
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := leg.Hangup(ctx); err != nil {
					c.log.Debug("BYE failed", "error", err)
				}
			}()
		}
		if p.holdMixer != nil {
			p.holdMixer.Close()
		}
		if !p.moved {
			p.media.Close()
		}
	}
	c.mixer.Close()
	endedAt := c.m.now()
	for _, cn := range c.liveConns() {
		cn.state = acs.StateDisconnected
		res := r.result
		c.emitFor(cn, cn.callbackURI, cn.operationContext, acs.EventCallDisconnected, &res, nil)
	}
	if wasConnected {
		for _, p := range c.parts {
			if p.gone {
				continue // its removal was published when it left
			}
			c.subscriptionEvent(acs.EventParticipantRemoved, acs.ParticipantLifecycleData{
				ServerCallID: c.serverCallID, CorrelationID: c.correlationID, Participant: p.id.Model(),
			})
		}
		c.subscriptionEvent(acs.EventCallEnded, acs.CallLifecycleData{
			ServerCallID: c.serverCallID, CorrelationID: c.correlationID, From: c.from.Model(), To: c.to.Model(),
			StartTime: c.answeredAt.UTC().Format(time.RFC3339Nano), EndTime: endedAt.UTC().Format(time.RFC3339Nano),
			DurationMs: endedAt.Sub(c.answeredAt).Milliseconds(), EndReason: r.name,
		})
	}
	c.saveRecord(r, endedAt, rtp)
	t := tombstone{at: endedAt, reason: r.name}
	if c.conn != nil {
		t.props = c.properties(c.conn)
	}
	c.m.unregister(c, t)
	c.log.Info("call ended", "reason", r.name, "sip_status", c.sipStatus, "rtp_in", rtp.PacketsIn, "rtp_out", rtp.PacketsOut, "rtp_malformed", rtp.Malformed)
}

func (c *Call) saveRecord(r endReason, endedAt time.Time, rtp media.Stats) {
	rec := store.CallRecord{
		ServerCallID: c.serverCallID, CorrelationID: c.correlationID, Direction: c.direction,
		From: c.from.RawID, To: c.to.RawID, StartedAt: c.startedAt, EndedAt: endedAt, EndReason: r.name,
		SIPStatus: c.sipStatus, ResultSubCode: r.result.SubCode,
		RTPPacketsIn: rtp.PacketsIn, RTPPacketsOut: rtp.PacketsOut, RTPMalformed: rtp.Malformed,
	}
	for _, p := range c.parts {
		if p.leg != nil {
			rec.SIPCallID = p.leg.SIPCallID()
			break
		}
	}
	if !c.answeredAt.IsZero() {
		a := c.answeredAt
		rec.AnsweredAt = &a
		rec.DurationMs = endedAt.Sub(a).Milliseconds()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.m.records.SaveCallRecord(ctx, rec); err != nil {
		c.log.Error("saving call record failed", "error", err)
	}
}

// emit sends a mid-call event to the primary connection's callback URI
// (the app that answered or created the call).
func (c *Call) emit(eventType string, res *acs.ResultInformation, extend func(*acs.CallEventData) any) {
	if c.conn == nil {
		return
	}
	c.emitFor(c.conn, c.conn.callbackURI, c.conn.operationContext, eventType, res, extend)
}

// emitFor sends a mid-call event of connection cn to url with an operation
// context: operations carry their own, and may name their own callback URI.
func (c *Call) emitFor(cn *connection, url, opContext, eventType string, res *acs.ResultInformation, extend func(*acs.CallEventData) any) {
	if cn == nil || url == "" {
		return
	}
	base := acs.CallEventData{
		CallConnectionID: cn.id, ServerCallID: c.serverCallID, CorrelationID: c.correlationID,
		OperationContext: opContext, ResultInformation: res, Version: cn.apiVersion,
		PublicEventType: acs.EventTypePrefix + eventType,
	}
	var data any = base
	if extend != nil {
		data = extend(&base)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.m.events.Callback(ctx, url, cn.id, eventType, data); err != nil {
		c.log.Error("queueing event failed", "event", eventType, "error", err)
	}
}

// emitParticipantsUpdated tells every app in the call the new roster.
func (c *Call) emitParticipantsUpdated() {
	parts := c.roster()
	for _, cn := range c.liveConns() {
		c.participantsUpdated(cn, parts)
	}
}

func (c *Call) participantsUpdated(cn *connection, parts []acs.CallParticipant) {
	cn.seq++
	seq := cn.seq
	c.emitFor(cn, cn.callbackURI, "", acs.EventParticipantsUpdated, &acs.ResultOK, func(b *acs.CallEventData) any {
		return acs.ParticipantsUpdatedData{CallEventData: *b, SequenceNumber: seq, Participants: parts}
	})
}

// liveConns lists the app connections still in the call, primary first.
func (c *Call) liveConns() []*connection {
	var out []*connection
	if c.conn != nil && c.conn.state != acs.StateDisconnected {
		out = append(out, c.conn)
	}
	for _, cn := range c.others {
		if cn.state != acs.StateDisconnected {
			out = append(out, cn)
		}
	}
	return out
}

// connection finds one of the call's app connections by id.
func (c *Call) connection(id string) *connection {
	if c.conn != nil && c.conn.id == id {
		return c.conn
	}
	for _, cn := range c.others {
		if cn.id == id {
			return cn
		}
	}
	return nil
}

// subscriptionEvent publishes a call lifecycle event to the subscriptions.
func (c *Call) subscriptionEvent(eventType string, data any) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	subject := "/caller/" + c.from.RawID + "/recipient/" + c.to.RawID
	if err := c.m.events.Subscription(ctx, eventType, subject, c.to, c.serverCallID, data, "", time.Time{}); err != nil {
		c.log.Error("publishing event failed", "event", eventType, "error", err)
	}
}

// roster lists the participants the app sees.
func (c *Call) roster() []acs.CallParticipant {
	out := make([]acs.CallParticipant, 0, len(c.parts))
	for _, p := range c.parts {
		if p.gone {
			continue
		}
		out = append(out, acs.CallParticipant{Identifier: p.id.Model(), IsMuted: p.muted, IsOnHold: p.hold})
	}
	return out
}

// properties is an app's view of its connection.
func (c *Call) properties(cn *connection) acs.CallConnectionProperties {
	p := acs.CallConnectionProperties{
		CallConnectionID: cn.id, ServerCallID: c.serverCallID, CallConnectionState: cn.state,
		CallbackURI: cn.callbackURI, CorrelationID: c.correlationID, SourceCallerIDNumber: cn.callerID,
		SourceDisplayName: cn.displayName, Source: cn.source.ModelPtr(), AnsweredFor: cn.answeredFor,
	}
	for _, t := range cn.targets {
		p.Targets = append(p.Targets, t.Model())
	}
	return p
}

func incomingTag(serverCallID string) string { return "incoming:" + serverCallID }
