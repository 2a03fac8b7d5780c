package call

import (
	"context"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
)

// CreateRequest is an app placing a call.
type CreateRequest struct {
	Targets          []acs.Identifier // one, or several for a group call
	CallerID         acs.Identifier   // sourceCallerIdNumber, for phone targets
	DisplayName      string
	Source           acs.Identifier // the app's own identity, if given
	CallbackURI      string
	OperationContext string
	APIVersion       string
	Headers          map[string]string
}

// Create places a call. It returns at once with the connection in state
// connecting; CallConnected (when the first target answers) or
// CreateCallFailed (when none does) follows. With several targets every one
// that answers joins the same call.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (acs.CallConnectionProperties, error) {
	if m.sig == nil {
		return acs.CallConnectionProperties{}, acs.Unavailable("signalling is not running")
	}
	if len(req.Targets) == 0 {
		return acs.CallConnectionProperties{}, acs.BadRequest("targets is required and must not be empty")
	}
	if err := m.admit(); err != nil {
		return acs.CallConnectionProperties{}, err
	}
	defer m.release() // registered below, or failed
	first := req.Targets[0]
	from := req.Source
	if !req.CallerID.IsZero() && (first.Kind == acs.KindPhoneNumber || from.IsZero()) {
		from = req.CallerID
	}
	c := m.newCall("outbound", from, first)
	type dial struct {
		target acs.Identifier
		ml     *media.Leg
		offer  []byte
	}
	var dials []dial
	fail := func(err error) (acs.CallConnectionProperties, error) {
		for _, d := range dials {
			d.ml.Close()
		}
		c.mixer.Close()
		return acs.CallConnectionProperties{}, err
	}
	for _, t := range req.Targets {
		ml, offer, err := c.offerLeg()
		if err != nil {
			return fail(err)
		}
		dials = append(dials, dial{target: t, ml: ml, offer: offer})
	}
	cn := &connection{
		id: newID(), callbackURI: req.CallbackURI, operationContext: req.OperationContext, apiVersion: req.APIVersion,
		state: acs.StateConnecting, source: req.Source, displayName: req.DisplayName, targets: req.Targets,
	}
	if ph := req.CallerID.Phone(); ph != "" {
		cn.callerID = &acs.PhoneNumberModel{Value: ph}
	}
	c.conn = cn
	c.state = stateDialing
	c.pendingDials = len(dials)
	c.log = c.log.With("call_connection_id", cn.id)
	dctx, cancel := context.WithTimeout(context.Background(), m.cfg.DialTimeout)
	c.cancelDial = cancel
	m.register(c)
	m.addConn(cn.id, c)
	props := c.properties(cn)
	go c.run()
	for _, d := range dials {
		dr := DialRequest{Target: d.target, CallerID: from, DisplayName: req.DisplayName, SDP: d.offer, Headers: req.Headers}
		c.dialAsync(dctx, dr, d.ml, func(leg Leg, sdp []byte, err error) { c.dialed(d.target, d.ml, leg, sdp, err) })
	}
	c.log.Info("outbound call", "targets", len(req.Targets), "first", first.RawID, "from", from.RawID)
	return props, nil
}

// dialed takes in one target's answer or failure: the first answer connects
// the call, later ones join it, and when every target failed the call does.
func (c *Call) dialed(target acs.Identifier, ml *media.Leg, leg Leg, sdp []byte, err error) {
	c.pendingDials--
	if c.state != stateDialing && c.state != stateConnected {
		discard(ml, leg, err)
		return
	}
	err = settle(ml, leg, sdp, err)
	if err != nil {
		ml.Close()
		status, reason := dialFailureStatus(err)
		c.log.Info("a target did not answer", "target", target.RawID, "status", status, "reason", reason)
		if c.state == stateDialing && c.pendingDials == 0 {
			c.cancelDial()
			c.cancelDial = nil
			c.sipStatus = status
			res := acs.SIPFailure(status, reason)
			c.emit(acs.EventCreateCallFailed, &res, nil)
			c.conn.state = acs.StateDisconnected // no CallDisconnected after CreateCallFailed
			c.end(endReason{name: "dial-failed", result: res})
		}
		return
	}
	p := &participant{id: target, leg: leg, media: ml}
	c.addParticipant(p)
	c.watch(p)
	if c.state == stateDialing {
		c.sipStatus = 200
		c.to = target
		c.connected()
		return
	}
	c.emitParticipantsUpdated()
	c.subscriptionEvent(acs.EventParticipantAdded, acs.ParticipantLifecycleData{
		ServerCallID: c.serverCallID, CorrelationID: c.correlationID, Participant: p.id.Model(),
	})
}
