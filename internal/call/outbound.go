package call

import (
	"context"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
)

// CreateRequest is an app placing a call.
type CreateRequest struct {
	Target           acs.Identifier
	CallerID         acs.Identifier // sourceCallerIdNumber, for phone targets
	DisplayName      string
	Source           acs.Identifier // the app's own identity, if given
	CallbackURI      string
	OperationContext string
	APIVersion       string
	Headers          map[string]string
}

// Create places a call. It returns at once with the connection in state
// connecting; CallConnected or CreateCallFailed follows.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (acs.CallConnectionProperties, error) {
	if m.sig == nil {
		return acs.CallConnectionProperties{}, acs.Unavailable("signalling is not running")
	}
	if err := m.admit(); err != nil {
		return acs.CallConnectionProperties{}, err
	}
	from := req.Source
	if req.Target.Kind == acs.KindPhoneNumber && !req.CallerID.IsZero() {
		from = req.CallerID
	}
	c := m.newCall("outbound", from, req.Target)
	ml, err := c.newMediaLeg()
	if err != nil {
		c.mixer.Close()
		return acs.CallConnectionProperties{}, acs.Unavailable("no media port available")
	}
	offer, err := ml.Offer()
	if err != nil {
		ml.Close()
		c.mixer.Close()
		return acs.CallConnectionProperties{}, err
	}
	cn := &connection{
		id: newID(), callbackURI: req.CallbackURI, operationContext: req.OperationContext, apiVersion: req.APIVersion,
		state: acs.StateConnecting, source: req.Source, displayName: req.DisplayName, targets: []acs.Identifier{req.Target},
	}
	if ph := req.CallerID.Phone(); ph != "" {
		cn.callerID = &acs.PhoneNumberModel{Value: ph}
	}
	c.conn = cn
	c.state = stateDialing
	c.log = c.log.With("call_connection_id", cn.id)
	dctx, cancel := context.WithTimeout(context.Background(), m.cfg.DialTimeout)
	c.cancelDial = cancel
	m.register(c)
	m.addConn(cn.id, c)
	props := c.properties()
	go c.run()
	dial := DialRequest{Target: req.Target, CallerID: from, DisplayName: req.DisplayName, SDP: offer, Headers: req.Headers}
	go func() {
		leg, sdp, err := m.sig.Dial(dctx, dial)
		if !c.post(func() { c.dialed(ml, leg, sdp, err) }) {
			if err == nil {
				leg.Hangup(context.Background())
			}
			ml.Close()
		}
	}()
	c.log.Info("outbound call", "target", req.Target.RawID, "from", from.RawID)
	return props, nil
}

// dialed completes an outbound call once the callee answered or failed.
func (c *Call) dialed(ml *media.Leg, leg Leg, sdp []byte, err error) {
	if c.state != stateDialing {
		if err == nil {
			go leg.Hangup(context.Background())
		}
		ml.Close()
		return
	}
	c.cancelDial()
	c.cancelDial = nil
	if err == nil {
		if err = ml.SetRemoteAnswer(sdp); err != nil {
			c.log.Info("callee's SDP answer is unusable", "error", err)
			go leg.Hangup(context.Background())
			err = &DialError{Status: 488, Reason: "Not Acceptable Here"}
		}
	}
	if err != nil {
		ml.Close()
		status, reason := dialFailureStatus(err)
		c.sipStatus = status
		res := acs.SIPFailure(status, reason)
		c.log.Info("outbound call failed", "status", status, "reason", reason)
		c.emit(acs.EventCreateCallFailed, &res, nil)
		c.conn.state = acs.StateDisconnected // no CallDisconnected after CreateCallFailed
		c.end(endReason{name: "dial-failed", result: res})
		return
	}
	c.sipStatus = 200
	p := &participant{id: c.to, leg: leg, media: ml}
	c.addParticipant(p)
	c.watch(p)
	c.connected()
}
