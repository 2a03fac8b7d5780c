package call

import (
	"context"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
)

// invitation is an addParticipant in progress.
type invitation struct {
	conn        *connection
	id          string
	target      acs.Identifier
	opContext   string
	callbackURI string
	cancel      context.CancelFunc
	canceled    *cancelRequest // set when the app canceled it
	app         bool           // an app was asked to answer for target (IncomingCall), no SIP dial
}

// cancelRequest is a cancelAddParticipant waiting for its dial to end.
type cancelRequest struct {
	opContext   string
	callbackURI string
}

// AddRequest is an app adding a participant to a call.
type AddRequest struct {
	Target           acs.Identifier
	CallerID         acs.Identifier
	DisplayName      string
	Timeout          time.Duration     // invitationTimeoutInSeconds; 0: the dial timeout
	Headers          map[string]string // SIP headers for the INVITE
	VoipHeaders      map[string]string // for an automated callee's IncomingCall
	OperationContext string
	CallbackURI      string
}

// AddParticipant rings a new participant into the call. It returns the
// invitation id at once; AddParticipantSucceeded (only when they really
// answered) or AddParticipantFailed follows.
func (m *Manager) AddParticipant(ctx context.Context, connID string, req AddRequest) (string, error) {
	var invID string
	err := m.onConnected(ctx, connID, func(c *Call, cn *connection) error {
		if c.participant(req.Target) != nil {
			return acs.Errorf(400, "BadRequest", 8523, "%s is already in the call", req.Target.RawID)
		}
		for _, inv := range c.invites {
			if inv.target.RawID == req.Target.RawID {
				return acs.Errorf(400, "BadRequest", 8559, "%s is already being added", req.Target.RawID)
			}
		}
		timeout := req.Timeout
		if timeout <= 0 {
			timeout = m.cfg.DialTimeout
		}
		automated := req.Target.Kind == acs.KindCommunicationUser && c.m.events.Automated(req.Target)
		var ml *media.Leg
		var offer []byte
		if !automated {
			var err error
			if ml, offer, err = c.offerLeg(); err != nil {
				return err
			}
		}
		dctx, cancel := context.WithTimeout(context.Background(), timeout)
		inv := &invitation{conn: cn, id: newID(), target: req.Target, opContext: req.OperationContext, callbackURI: req.CallbackURI, cancel: cancel, app: automated}
		c.invites = append(c.invites, inv)
		invID = inv.id
		from := req.CallerID
		if from.IsZero() {
			from = c.to // the number or user the call is for
		}
		if automated {
			c.inviteApp(dctx, inv, from, req)
			return nil
		}
		dial := DialRequest{Target: req.Target, CallerID: from, DisplayName: req.DisplayName, SDP: offer, Headers: req.Headers}
		c.dialAsync(dctx, dial, ml, func(leg Leg, sdp []byte, err error) { c.added(inv, ml, leg, sdp, err) })
		c.log.Info("adding participant", "target", req.Target.RawID, "invitation_id", inv.id)
		return nil
	})
	return invID, err
}

// added completes an invitation once the invitee answered or failed.
func (c *Call) added(inv *invitation, ml *media.Leg, leg Leg, sdp []byte, err error) {
	c.endInvite(inv)
	if c.state != stateConnected {
		discard(ml, leg, err)
		return
	}
	if err = settle(ml, leg, sdp, err); err != nil {
		if ml != nil {
			ml.Close()
		}
		c.inviteFailed(inv, err)
		return
	}
	p := &participant{id: inv.target, leg: leg, media: ml}
	c.inviteAnswered(inv, p)
	c.watch(p)
}

// inviteFailed tells the app that added a participant that they did not
// join, and why.
func (c *Call) inviteFailed(inv *invitation, err error) {
	status, reason := dialFailureStatus(err)
	res := acs.SIPFailure(status, reason)
	if inv.canceled != nil {
		res = acs.ResultInformation{Code: 487, SubCode: 540487, Message: "The invitation was canceled.", SIPDetails: &acs.SIPDiagnosticInfo{Code: 487, Message: "Request Terminated"}}
		c.emitFor(inv.conn, inv.canceled.url(inv.conn), inv.canceled.opContext, acs.EventCancelAddParticipantSucceeded, &acs.ResultOK, inv.eventData)
	}
	c.log.Info("participant was not added", "target", inv.target.RawID, "status", status)
	c.emitFor(inv.conn, inv.url(), inv.opContext, acs.EventAddParticipantFailed, &res, inv.participantData)
}

// inviteAnswered puts an invitee who answered into the call.
func (c *Call) inviteAnswered(inv *invitation, p *participant) {
	c.addParticipant(p)
	c.emitFor(inv.conn, inv.url(), inv.opContext, acs.EventAddParticipantSucceeded, &acs.ResultOK, inv.participantData)
	c.emitParticipantsUpdated()
	c.subscriptionEvent(acs.EventParticipantAdded, acs.ParticipantLifecycleData{
		ServerCallID: c.serverCallID, CorrelationID: c.correlationID, Participant: p.id.Model(),
	})
	if inv.canceled != nil {
		res := acs.ResultInformation{Code: 400, SubCode: 8585, Message: "Too late to cancel: the participant answered."}
		c.emitFor(inv.conn, inv.canceled.url(inv.conn), inv.canceled.opContext, acs.EventCancelAddParticipantFailed, &res, inv.eventData)
	}
}

// url is where the invitation's events go.
func (inv *invitation) url() string {
	if inv.callbackURI != "" {
		return inv.callbackURI
	}
	return inv.conn.callbackURI
}

func (inv *invitation) participantData(b *acs.CallEventData) any {
	return acs.ParticipantEventData{CallEventData: *b, Participant: inv.target.Model()}
}

func (inv *invitation) eventData(b *acs.CallEventData) any {
	return acs.InvitationEventData{CallEventData: *b, InvitationID: inv.id}
}

func (r *cancelRequest) url(cn *connection) string {
	if r.callbackURI != "" {
		return r.callbackURI
	}
	return cn.callbackURI
}

// endInvite stops an invitation's timer and forgets it.
func (c *Call) endInvite(inv *invitation) {
	inv.cancel()
	c.removeInvite(inv)
	if inv.app {
		c.m.events.Expire(inviteTag(inv.id))
	}
}

func (c *Call) removeInvite(inv *invitation) {
	for i, x := range c.invites {
		if x == inv {
			c.invites = append(c.invites[:i], c.invites[i+1:]...)
			return
		}
	}
}

// CancelAddParticipant stops ringing an invitee (CANCEL).
// CancelAddParticipantSucceeded and AddParticipantFailed follow, or
// CancelAddParticipantFailed when the invitee had already answered.
func (m *Manager) CancelAddParticipant(ctx context.Context, connID, invitationID, opContext, callbackURI string) error {
	return m.onConnected(ctx, connID, func(c *Call, _ *connection) error {
		for _, inv := range c.invites {
			if inv.id == invitationID {
				inv.canceled = &cancelRequest{opContext: opContext, callbackURI: callbackURI}
				inv.cancel()
				return nil
			}
		}
		return acs.NotFound("invitation %s is not pending", invitationID)
	})
}

// RemoveParticipant hangs up one participant (BYE to them only).
func (m *Manager) RemoveParticipant(ctx context.Context, connID string, target acs.Identifier, opContext, callbackURI string) error {
	return m.onConnected(ctx, connID, func(c *Call, cn *connection) error {
		p, err := c.mustParticipant(target)
		if err != nil {
			return err
		}
		url := cn.callbackURI
		if callbackURI != "" {
			url = callbackURI
		}
		c.dropParticipant(p, true)
		c.emitFor(cn, url, opContext, acs.EventRemoveParticipantSucceeded, &acs.ResultOK, func(b *acs.CallEventData) any {
			return acs.ParticipantEventData{CallEventData: *b, Participant: p.id.Model()}
		})
		c.afterLeave()
		return nil
	})
}

// Mute keeps participants' audio out of the mix.
func (m *Manager) Mute(ctx context.Context, connID string, targets []acs.Identifier) error {
	return m.onConnected(ctx, connID, func(c *Call, _ *connection) error {
		var ps []*participant
		for _, id := range targets {
			p, err := c.mustParticipant(id)
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
		changed := false
		for _, p := range ps {
			if !p.muted {
				p.muted, changed = true, true
				if p.media != nil {
					p.media.SetMuted(true)
				}
			}
		}
		if changed {
			c.emitParticipantsUpdated()
		}
		return nil
	})
}

// dropParticipant takes a participant out of the call: BYE (unless they
// left themselves), out of the mix, a roster update.
func (c *Call) dropParticipant(p *participant, bye bool) {
	if p.gone {
		return
	}
	p.gone = true
	if p.bot != nil {
		if p.bot.state != acs.StateDisconnected {
			c.leave(p.bot)
		}
	} else if bye {
		leg := p.leg
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			leg.Hangup(ctx)
		}()
	}
	if p.media != nil {
		c.mixer.Remove(p.media)
		if p.holdMixer != nil {
			p.holdMixer.Close()
			p.holdMixer = nil
		}
		p.media.Close()
	}
	c.subscriptionEvent(acs.EventParticipantRemoved, acs.ParticipantLifecycleData{
		ServerCallID: c.serverCallID, CorrelationID: c.correlationID, Participant: p.id.Model(),
	})
	if c.state == stateConnected {
		c.emitParticipantsUpdated()
	}
}

// afterLeave ends the call when nobody is left to talk to: no participant
// while the app is in the call, fewer than two once it has left.
func (c *Call) afterLeave() {
	if c.state == stateEnded {
		return
	}
	if c.meeting != "" && len(c.liveConns()) > 0 {
		return // a group call waits for people while an app is in it
	}
	min := 1
	if len(c.liveConns()) == 0 {
		min = 2
	}
	heard := 0 // participants with audio: apps answering for users do not count
	for _, p := range c.live() {
		if p.media != nil {
			heard++
		}
	}
	if len(c.live()) < min || heard == 0 {
		c.end(endRemote)
	}
}

// leave takes one app's connection out of a call that goes on without it:
// its operations end, it gets CallDisconnected, and it is forgotten.
func (c *Call) leave(cn *connection) {
	ops := c.ops
	c.ops = nil
	for _, op := range ops {
		if op.conn == cn {
			c.finishOp(op, op.canceledEvent(), acs.ResultCanceled, -1)
		} else {
			c.ops = append(c.ops, op)
		}
	}
	if len(c.ops) > 0 && ops[0].conn == cn {
		c.pump() // the running one was this app's: start the next
	}
	for _, s := range append([]*sendOp(nil), c.sends...) {
		if s.conn == cn {
			c.finishSend(s, acs.EventSendDTMFFailed, acs.ResultCanceled)
		}
	}
	for _, inv := range c.invites {
		if inv.conn == cn {
			inv.cancel()
		}
	}
	for _, p := range c.parts {
		if p.continuous != nil && p.continuous.conn == cn {
			p.continuous = nil
		}
	}
	c.syncInband()
	res := acs.ResultEndedByAPI
	c.emitFor(cn, cn.callbackURI, cn.operationContext, acs.EventCallDisconnected, &res, nil)
	cn.state = acs.StateDisconnected
	c.m.dropConn(cn.id)
}
