package call

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
)

// Incoming describes an incoming INVITE the SIP layer has authenticated and
// routed to a callee this server serves.
type Incoming struct {
	From        acs.Identifier
	To          acs.Identifier
	DisplayName string
	Leg         InboundLeg
	// CustomContext carries the INVITE's X-MS-Custom-* and User-To-User headers.
	CustomContext *acs.CustomCallingContext
}

// Incoming takes charge of an incoming call: it rings, the subscriptions get
// IncomingCall, and the call waits for the app to answer, reject or redirect
// until the ring timeout. Failures are answered to the caller here.
func (m *Manager) Incoming(in Incoming) {
	if err := m.admit(); err != nil {
		in.Leg.Reject(503, "Service Unavailable")
		return
	}
	defer m.release() // registered below, or refused
	c := m.newCall("inbound", in.From, in.To)
	c.displayName = in.DisplayName
	c.incoming = in.Leg
	ml, err := c.newMediaLeg()
	if err != nil {
		c.log.Error("no media port for an incoming call", "error", err)
		c.mixer.Close()
		in.Leg.Reject(503, "Service Unavailable")
		return
	}
	answer, err := ml.Answer(in.Leg.RemoteSDP())
	if err != nil {
		status, reason := 488, "Not Acceptable Here"
		if !errors.Is(err, media.ErrNoCommonCodec) {
			status, reason = 400, "Bad Request"
		}
		c.log.Info("refusing incoming call: unusable SDP", "error", err, "sip_status", status)
		ml.Close()
		c.mixer.Close()
		in.Leg.Reject(status, reason)
		return
	}
	c.answerSDP = answer
	p := &participant{id: in.From, leg: in.Leg, media: ml}
	c.state = stateRinging
	deadline := m.now().Add(m.cfg.RingTimeout)
	c.incomingCtx = sealContext(m.ctxKey, c.serverCallID, "", deadline)
	m.register(c)
	in.Leg.OnEnd(func(cause EndCause) { c.post(func() { c.incomingEnded(p, cause) }) })
	go c.run()
	c.post(func() {
		c.pending = p
		if err := in.Leg.Ring(); err != nil {
			c.log.Debug("180 Ringing failed", "error", err)
		}
		c.ringTimer = time.AfterFunc(m.cfg.RingTimeout, func() { c.post(c.ringTimeout) })
		data := acs.IncomingCallData{
			To: in.To.Model(), From: in.From.Model(), CallerDisplayName: in.DisplayName, ServerCallID: c.serverCallID,
			CustomContext: in.CustomContext, IncomingCallContext: c.incomingCtx, CorrelationID: c.correlationID,
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		subject := "/caller/" + in.From.RawID + "/recipient/" + in.To.RawID
		if err := m.events.Subscription(ctx, acs.EventIncomingCall, subject, in.To, c.serverCallID, data, incomingTag(c.serverCallID), deadline); err != nil {
			c.log.Error("publishing IncomingCall failed", "error", err)
		}
		c.log.Info("incoming call", "from", in.From.RawID, "to", in.To.RawID, "sip_call_id", in.Leg.SIPCallID())
	})
}

// incomingEnded handles the caller leaving before the call was connected
// (CANCEL) or any time after (BYE).
func (c *Call) incomingEnded(p *participant, cause EndCause) {
	if c.state == stateEnded {
		return
	}
	switch c.state {
	case stateRinging, stateRedirecting, stateAnswering:
		p.gone = true
		c.log.Info("caller left before the call was connected", "cause", cause.String())
		if c.pending != nil {
			c.pending.media.Close()
			c.pending = nil
		}
		if c.state == stateAnswering && c.conn != nil {
			c.emit(acs.EventAnswerFailed, &acs.ResultInformation{Code: 487, SubCode: 540487, Message: "The caller hung up before the call was connected."}, nil)
			c.conn.state = acs.StateDisconnected
		}
		c.end(endReason{name: "caller-" + cause.String(), result: acs.ResultConversationEnded})
	default:
		c.legEnded(p, cause)
	}
}

// shutdown ends the call because the server is stopping; a caller still
// waiting for an answer gets 503.
func (c *Call) shutdown() {
	switch c.state {
	case stateRinging, stateRedirecting:
		c.refuse(503, "Service Unavailable", endServerShutdown)
	default:
		c.end(endServerShutdown)
	}
}

// ringTimeout refuses a call nobody acted on in time.
func (c *Call) ringTimeout() {
	if c.state != stateRinging {
		return
	}
	c.log.Info("incoming call not answered in time", "ring_timeout", c.m.cfg.RingTimeout)
	c.refuse(480, "Temporarily Unavailable", endReason{name: "ring-timeout", result: acs.ResultInformation{Code: 408, SubCode: 8587, Message: "Incoming call was not answered in time."}})
}

// refuse sends a final failure to the waiting caller and ends the call.
func (c *Call) refuse(status int, reason string, r endReason) {
	leg := c.incoming
	c.sipStatus = status
	go func() {
		if err := leg.Reject(status, reason); err != nil {
			c.log.Debug("sending final failure failed", "status", status, "error", err)
		}
	}()
	if c.pending != nil {
		c.pending.gone = true // no BYE for a refused INVITE
		c.pending.media.Close()
		c.pending = nil
	}
	c.end(r)
}

// AnswerRequest is an app answering an incoming call.
type AnswerRequest struct {
	IncomingCallContext string
	CallbackURI         string
	OperationContext    string
	APIVersion          string
	AnsweredBy          acs.Identifier
}

// Answer connects an incoming call to the app.
func (m *Manager) Answer(ctx context.Context, req AnswerRequest) (acs.CallConnectionProperties, error) {
	c, inv, err := m.byContext(req.IncomingCallContext)
	if err != nil {
		return acs.CallConnectionProperties{}, err
	}
	var props acs.CallConnectionProperties
	err = c.do(ctx, func() error {
		if inv != "" {
			props, err = c.answerInvitation(inv, req)
			return err
		}
		if c.state != stateRinging {
			return acs.InvalidState("the call cannot be answered: it is %s", c.stateText())
		}
		p := c.pending
		cn := &connection{
			id: newID(), callbackURI: req.CallbackURI, operationContext: req.OperationContext, apiVersion: req.APIVersion,
			state: acs.StateConnecting, source: c.from, targets: []acs.Identifier{c.to},
		}
		if ph := c.to.Phone(); ph != "" {
			cn.answeredFor = &acs.PhoneNumberModel{Value: ph}
		}
		if err := c.incoming.Accept(c.answerSDP, func(err error) { c.post(func() { c.acked(err) }) }); err != nil {
			c.log.Info("answering failed", "error", err)
			return acs.InvalidState("the call cannot be answered: %v", err)
		}
		c.conn = cn
		c.m.addConn(cn.id, c)
		c.state = stateAnswering
		c.ringTimer.Stop()
		c.m.events.Expire(incomingTag(c.serverCallID))
		c.pending = nil
		c.sipStatus = 200
		c.addParticipant(p)
		c.log = c.log.With("call_connection_id", cn.id)
		props = c.properties(cn)
		return nil
	})
	return props, err
}

// acked completes an answer when the caller's ACK arrives.
func (c *Call) acked(err error) {
	if c.state != stateAnswering {
		return
	}
	if err != nil {
		c.log.Warn("no ACK for 200 OK", "error", err)
		c.emit(acs.EventAnswerFailed, &acs.ResultInformation{Code: 408, SubCode: 10057, Message: "The caller did not acknowledge the answer."}, nil)
		c.conn.state = acs.StateDisconnected
		c.end(endReason{name: "no-ack", result: acs.ResultConversationEnded})
		return
	}
	c.connected()
}

// Reject refuses an incoming call with the SIP status its reason maps to.
func (m *Manager) Reject(ctx context.Context, incomingCallContext, reason string) error {
	status, text, ok := acs.RejectReasonStatus(reason)
	if !ok {
		return acs.BadRequest("callRejectReason %q is not none, busy or forbidden", reason)
	}
	c, inv, err := m.byContext(incomingCallContext)
	if err != nil {
		return err
	}
	return c.do(ctx, func() error {
		if inv != "" {
			return c.rejectInvitation(inv, status, text)
		}
		if c.state != stateRinging {
			return acs.InvalidState("the call cannot be rejected: it is %s", c.stateText())
		}
		c.refuse(status, text, endReason{name: "rejected", result: acs.ResultInformation{Code: status, SubCode: 0, Message: "Call rejected by the app."}})
		return nil
	})
}

// Redirect sends an incoming call to another target. The server dials the
// target and bridges the caller to it once it answers; the app has no
// connection on that call.
func (m *Manager) Redirect(ctx context.Context, incomingCallContext string, target acs.Identifier) error {
	c, inv, err := m.byContext(incomingCallContext)
	if err != nil {
		return err
	}
	return c.do(ctx, func() error {
		if inv != "" {
			return c.redirectInvitation(inv, target)
		}
		if c.state != stateRinging {
			return acs.InvalidState("the call cannot be redirected: it is %s", c.stateText())
		}
		ml, offer, err := c.offerLeg()
		if err != nil {
			return err
		}
		c.state = stateRedirecting
		c.ringTimer.Stop()
		c.m.events.Expire(incomingTag(c.serverCallID))
		dctx, cancel := context.WithTimeout(context.Background(), m.cfg.DialTimeout)
		c.cancelDial = cancel
		c.log.Info("redirecting incoming call", "target", target.RawID)
		dial := DialRequest{Target: target, CallerID: c.from, DisplayName: c.displayName, SDP: offer}
		c.dialAsync(dctx, dial, ml, func(leg Leg, sdp []byte, err error) { c.redirectDialed(target, ml, leg, sdp, err) })
		return nil
	})
}

// redirectDialed bridges the caller to the answered redirect target, or
// refuses the caller with the target's failure.
func (c *Call) redirectDialed(target acs.Identifier, ml *media.Leg, leg Leg, sdp []byte, err error) {
	if c.state != stateRedirecting {
		discard(ml, leg, err)
		return
	}
	c.cancelDial = nil
	if err = settle(ml, leg, sdp, err); err != nil {
		ml.Close()
		status, reason := dialFailureStatus(err)
		c.log.Info("redirect target did not answer", "target", target.RawID, "status", status)
		c.refuse(status, reason, endReason{name: "redirect-failed", result: acs.SIPFailure(status, reason)})
		return
	}
	p := c.pending
	if err := c.incoming.Accept(c.answerSDP, func(err error) {
		c.post(func() {
			if err != nil && c.state != stateEnded {
				c.end(endReason{name: "no-ack", result: acs.ResultConversationEnded})
			}
		})
	}); err != nil {
		go leg.Hangup(context.Background())
		ml.Close()
		c.end(endReason{name: "caller-canceled", result: acs.ResultConversationEnded})
		return
	}
	c.pending = nil
	c.sipStatus = 200
	c.addParticipant(p)
	tp := &participant{id: target, leg: leg, media: ml}
	c.addParticipant(tp)
	c.watch(tp)
	c.to = target
	c.connected()
}

// dialFailureStatus maps a failed dial to the SIP status to report.
func dialFailureStatus(err error) (int, string) {
	var de *DialError
	switch {
	case errors.As(err, &de):
		return de.Status, de.Reason
	case errors.Is(err, context.DeadlineExceeded):
		return 487, "Request Terminated"
	case errors.Is(err, context.Canceled):
		return 487, "Request Terminated"
	}
	return 480, "Temporarily Unavailable"
}

func (c *Call) stateText() string {
	switch c.state {
	case stateRinging:
		return "ringing"
	case stateRedirecting:
		return "being redirected"
	case stateDialing:
		return "dialing"
	case stateAnswering:
		return "being answered"
	case stateConnected:
		return "connected"
	}
	return "ended"
}

func newServerCallID() string {
	return base64.RawURLEncoding.EncodeToString([]byte("switchboard/call/" + newID()))
}
