package call

import (
	"context"

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

// Transfer performs a blind transfer by bridging: the server rings the
// target and, when it answers, connects the transferee to it and leaves
// the app's connection (CallTransferAccepted, then CallDisconnected). If the
// target does not answer, CallTransferFailed follows and the call goes on.
func (m *Manager) Transfer(ctx context.Context, connID string, req TransferRequest) error {
	return m.onConnected(ctx, connID, func(c *Call) error {
		live := c.live()
		if len(live) != 1 {
			return acs.Errorf(400, "BadRequest", 8520, "transfer is supported in 1:1 calls only for now (%d participants)", len(live))
		}
		transferee := live[0]
		if !req.Transferee.IsZero() && req.Transferee.RawID != transferee.id.RawID {
			return acs.Errorf(400, "BadRequest", 8558, "transferee %s is not in the call", req.Transferee.RawID)
		}
		if c.transfer != nil {
			return acs.Errorf(409, "Conflict", 8607, "a transfer is already in progress")
		}
		ml, offer, err := c.offerLeg()
		if err != nil {
			return err
		}
		from := req.CallerID
		if from.IsZero() {
			from = transferee.id
		}
		dctx, cancel := context.WithTimeout(context.Background(), m.cfg.DialTimeout)
		c.transfer = &transferOp{req: req, transferee: transferee, cancel: cancel}
		c.conn.state = acs.StateTransferring
		dial := DialRequest{Target: req.Target, CallerID: from, SDP: offer, Headers: req.Headers}
		c.dialAsync(dctx, dial, ml, func(leg Leg, sdp []byte, err error) { c.transferred(ml, leg, sdp, err) })
		c.log.Info("transferring", "transferee", transferee.id.RawID, "target", req.Target.RawID)
		return nil
	})
}

// transferOp is a transfer in progress.
type transferOp struct {
	req        TransferRequest
	transferee *participant
	cancel     context.CancelFunc
}

// transferred completes a transfer once the target answered or failed.
func (c *Call) transferred(ml *media.Leg, leg Leg, sdp []byte, err error) {
	t := c.transfer
	c.transfer = nil
	if t != nil {
		t.cancel()
	}
	if t == nil || c.state != stateConnected || t.transferee.gone {
		discard(ml, leg, err)
		return
	}
	url := c.conn.callbackURI
	if t.req.CallbackURI != "" {
		url = t.req.CallbackURI
	}
	if err = settle(ml, leg, sdp, err); err != nil {
		c.conn.state = acs.StateConnected
		status, reason := dialFailureStatus(err)
		res := acs.SIPFailure(status, reason)
		c.log.Info("transfer target did not answer", "status", status)
		c.emitTo(url, t.req.OperationContext, acs.EventCallTransferFailed, &res, nil)
		return
	}
	p := &participant{id: t.req.Target, leg: leg, media: ml}
	c.addParticipant(p)
	c.watch(p)
	c.subscriptionEvent(acs.EventParticipantAdded, acs.ParticipantLifecycleData{
		ServerCallID: c.serverCallID, CorrelationID: c.correlationID, Participant: p.id.Model(),
	})
	c.conn.state = acs.StateTransferAccepted
	c.emitTo(url, t.req.OperationContext, acs.EventCallTransferAccepted, &acs.ResultOK, func(b *acs.CallEventData) any {
		return acs.TransferAcceptedData{CallEventData: *b, TransferTarget: t.req.Target.Model(), Transferee: t.transferee.id.Model()}
	})
	c.leave() // the app is out; transferee and target talk on
}
