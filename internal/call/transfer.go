package call

import (
	"context"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
)

// TransferRequest is an app handing its call's remote party to a target.
type TransferRequest struct {
	Target           acs.Identifier
	Transferee       acs.Identifier // empty: the only other participant
	CallerID         acs.Identifier // shown to the target; default the transferee
	Headers          map[string]string
	OperationContext string
	CallbackURI      string
}

// Transfer performs a blind transfer. It first asks the transferee to call
// the target itself (SIP REFER); success is judged by the final status the
// transferee reports in its NOTIFY sipfrag, not by the 202. If the
// transferee refuses REFER, the server bridges instead: it rings the target
// and, when it answers, connects the transferee to it. Either way the app
// gets CallTransferAccepted and then CallDisconnected; if the target does
// not answer, CallTransferFailed follows and the call goes on.
func (m *Manager) Transfer(ctx context.Context, connID string, req TransferRequest) error {
	return m.onConnected(ctx, connID, func(c *Call, cn *connection) error {
		live := c.live()
		var transferee *participant
		switch {
		case !req.Transferee.IsZero():
			p, err := c.mediaParticipant(req.Transferee)
			if err != nil {
				return err
			}
			transferee = p
		case len(live) == 1 && live[0].media != nil:
			transferee = live[0]
		default:
			return acs.BadRequest("transferee is required in a call with %d participants", len(live))
		}
		if c.transfer != nil {
			return acs.Errorf(409, "Conflict", 8607, "a transfer is already in progress")
		}
		dctx, cancel := context.WithTimeout(context.Background(), m.cfg.DialTimeout)
		t := &transferOp{conn: cn, req: req, transferee: transferee, cancel: cancel, group: len(live) > 1}
		c.transfer = t
		cn.state = acs.StateTransferring
		leg := transferee.leg
		leg.OnReferStatus(func(status int) { c.post(func() { c.referStatus(t, status) }) })
		go func() {
			err := leg.Refer(dctx, req.Target)
			c.post(func() { c.referAnswered(t, err) })
		}()
		c.log.Info("transferring", "transferee", transferee.id.RawID, "target", req.Target.RawID)
		return nil
	})
}

// referAnswered goes on with a transfer once the transferee answered the
// REFER: accepted, we wait for its NOTIFY; refused, we bridge ourselves.
func (c *Call) referAnswered(t *transferOp, err error) {
	if c.transfer != t {
		return
	}
	if err == nil {
		t.referred = true
		c.log.Info("transferee accepted REFER")
		time.AfterFunc(c.m.cfg.DialTimeout, func() {
			c.post(func() {
				if c.transfer == t {
					c.transferFailed(t, &DialError{Status: 408, Reason: "the transferee reported no outcome"})
				}
			})
		})
		return
	}
	c.log.Info("transferee refused REFER; bridging the transfer", "error", err)
	ml, offer, oerr := c.offerLeg()
	if oerr != nil {
		c.transferFailed(t, oerr)
		return
	}
	from := t.req.CallerID
	if from.IsZero() {
		from = t.transferee.id
	}
	dctx, cancel := context.WithTimeout(context.Background(), c.m.cfg.DialTimeout)
	t.cancel()
	t.cancel = cancel
	dial := DialRequest{Target: t.req.Target, CallerID: from, SDP: offer, Headers: t.req.Headers}
	c.dialAsync(dctx, dial, ml, func(leg Leg, sdp []byte, err error) { c.transferred(ml, leg, sdp, err) })
}

// referStatus takes the transferee's report of its referred call.
func (c *Call) referStatus(t *transferOp, status int) {
	if c.transfer != t || !t.referred || status < 200 {
		return
	}
	c.transfer = nil
	t.cancel()
	if status >= 300 {
		c.transferFailed(t, &DialError{Status: status, Reason: "referred call failed"})
		return
	}
	c.transferAccepted(t)
	if t.group {
		// The transferee left for the target; the others go on.
		t.conn.state = acs.StateConnected
		c.dropParticipant(t.transferee, true)
		c.afterLeave()
		return
	}
	// The transferee now talks to the target directly: our part is over.
	c.end(endReason{name: "transferred", result: acs.ResultEndedByAPI})
}

// transferFailed reports a failed transfer; the call goes on.
func (c *Call) transferFailed(t *transferOp, err error) {
	c.transfer = nil
	t.cancel()
	t.conn.state = acs.StateConnected
	status, reason := dialFailureStatus(err)
	res := acs.SIPFailure(status, reason)
	c.log.Info("transfer failed", "status", status)
	c.emitFor(t.conn, t.url(), t.req.OperationContext, acs.EventCallTransferFailed, &res, nil)
}

// transferAccepted tells the app its transfer succeeded.
func (c *Call) transferAccepted(t *transferOp) {
	t.conn.state = acs.StateTransferAccepted
	c.emitFor(t.conn, t.url(), t.req.OperationContext, acs.EventCallTransferAccepted, &acs.ResultOK, func(b *acs.CallEventData) any {
		return acs.TransferAcceptedData{CallEventData: *b, TransferTarget: t.req.Target.Model(), Transferee: t.transferee.id.Model()}
	})
}

func (t *transferOp) url() string {
	if t.req.CallbackURI != "" {
		return t.req.CallbackURI
	}
	return t.conn.callbackURI
}

// transferOp is a transfer in progress.
type transferOp struct {
	conn       *connection // the app that asked for it
	req        TransferRequest
	transferee *participant
	cancel     context.CancelFunc
	referred   bool // the transferee accepted REFER; its NOTIFY decides
	group      bool // the transferee leaves a call that goes on
}

// transferred completes a transfer once the target answered or failed.
func (c *Call) transferred(ml *media.Leg, leg Leg, sdp []byte, err error) {
	t := c.transfer
	if t == nil || c.state != stateConnected || t.transferee.gone {
		discard(ml, leg, err)
		return
	}
	if err = settle(ml, leg, sdp, err); err != nil {
		c.transferFailed(t, err)
		return
	}
	c.transfer = nil
	t.cancel()
	if t.group {
		// The transferee and the target talk in a call of their own; the
		// app and the others go on here.
		c.transferAccepted(t)
		t.conn.state = acs.StateConnected
		target := moving{id: t.req.Target, leg: leg, media: ml, ref: c.refs[ml]}
		delete(c.refs, ml)
		c.m.bridge(c.detach(t.transferee), target)
		c.emitParticipantsUpdated()
		c.afterLeave()
		return
	}
	p := &participant{id: t.req.Target, leg: leg, media: ml}
	c.addParticipant(p)
	c.watch(p)
	c.subscriptionEvent(acs.EventParticipantAdded, acs.ParticipantLifecycleData{
		ServerCallID: c.serverCallID, CorrelationID: c.correlationID, Participant: p.id.Model(),
	})
	c.transferAccepted(t)
	c.leave(t.conn) // the app is out; transferee and target talk on
}
