package call

import (
	"context"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
)

// MoveRequest is an app moving participants from another call into its own.
type MoveRequest struct {
	FromCall         string // serverCallId of the call they are in
	Targets          []acs.Identifier
	OperationContext string
	CallbackURI      string
}

// moving is a participant on its way between calls: its SIP leg, media
// leg and event routing, detached from the old call.
type moving struct {
	id    acs.Identifier
	leg   Leg
	media *media.Leg
	ref   *legRef
	muted bool
}

// MoveParticipants takes participants out of another call and into this
// one, legs and all: no new SIP call is made. MoveParticipantSucceeded per
// participant and ParticipantsUpdated in both calls follow; the old call
// ends if nobody is left in it.
func (m *Manager) MoveParticipants(ctx context.Context, connID string, req MoveRequest) ([]acs.CallParticipant, error) {
	if len(req.Targets) == 0 {
		return nil, acs.BadRequest("targetParticipants is required")
	}
	dest, err := m.byConnection(connID)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	src, ok := m.calls[req.FromCall]
	m.mu.Unlock()
	switch {
	case !ok:
		return nil, acs.NotFound("no call has serverCallId %s", req.FromCall)
	case src == dest:
		return nil, acs.BadRequest("fromCall is this call")
	}
	// Detach on the source call's goroutine, attach on ours: one call at a
	// time, so two opposite moves cannot wait on each other.
	var out []moving
	err = src.do(ctx, func() error {
		if src.state != stateConnected {
			return acs.Errorf(400, "BadRequest", 8501, "call %s is not established", req.FromCall)
		}
		var ps []*participant
		for _, id := range req.Targets {
			p, err := src.mediaParticipant(id)
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
		for _, p := range ps {
			out = append(out, src.detach(p))
		}
		src.emitParticipantsUpdated()
		src.afterLeave()
		return nil
	})
	if err != nil {
		return nil, err
	}
	var roster []acs.CallParticipant
	err = dest.do(ctx, func() error {
		cn := dest.connection(connID)
		if dest.state != stateConnected || cn == nil {
			for _, mv := range out {
				discard(mv.media, mv.leg, nil)
			}
			return acs.Errorf(400, "BadRequest", 8501, "the call is not established (%s)", dest.stateText())
		}
		url := cn.callbackURI
		if req.CallbackURI != "" {
			url = req.CallbackURI
		}
		for _, mv := range out {
			p := &participant{id: mv.id, leg: mv.leg, media: mv.media, muted: mv.muted}
			mv.ref.owner.Store(dest)
			dest.refs[mv.media] = mv.ref
			dest.addParticipant(p)
			dest.watch(p)
			roster = append(roster, acs.CallParticipant{Identifier: p.id.Model(), IsMuted: p.muted})
			dest.emitFor(cn, url, req.OperationContext, acs.EventMoveParticipantSucceeded, &acs.ResultOK, func(b *acs.CallEventData) any {
				return acs.MoveEventData{CallEventData: *b, Participant: p.id.Model(), FromCall: req.FromCall}
			})
			dest.subscriptionEvent(acs.EventParticipantAdded, acs.ParticipantLifecycleData{
				ServerCallID: dest.serverCallID, CorrelationID: dest.correlationID, Participant: p.id.Model(),
			})
		}
		dest.emitParticipantsUpdated()
		return nil
	})
	return roster, err
}

// detach takes a participant out of this call without hanging it up.
func (c *Call) detach(p *participant) moving {
	if p.holdMixer != nil { // a held participant comes back to the mix first
		c.unhold(p)
	}
	p.gone, p.moved = true, true
	c.mixer.Remove(p.media)
	p.media.SetSource(nil)
	ref := c.refs[p.media]
	if ref == nil { // every leg is made by newMediaLeg; be safe anyway
		ref = &legRef{leg: p.media}
	}
	delete(c.refs, p.media)
	c.subscriptionEvent(acs.EventParticipantRemoved, acs.ParticipantLifecycleData{
		ServerCallID: c.serverCallID, CorrelationID: c.correlationID, Participant: p.id.Model(),
	})
	return moving{id: p.id, leg: p.leg, media: p.media, ref: ref, muted: p.muted}
}

// bridge puts two legs that left other calls into a call of their own with
// no app (a bridged transfer out of a group call); it ends when either
// party hangs up.
func (m *Manager) bridge(a, b moving) {
	c := m.newCall("transfer", a.id, b.id)
	m.register(c)
	go c.run()
	c.post(func() {
		for _, mv := range []moving{a, b} {
			p := &participant{id: mv.id, leg: mv.leg, media: mv.media, muted: mv.muted}
			mv.ref.owner.Store(c)
			c.refs[mv.media] = mv.ref
			c.addParticipant(p)
			c.watch(p)
		}
		c.log.Info("bridged a transferee to its target", "transferee", a.id.RawID, "target", b.id.RawID)
		c.connected()
	})
}
