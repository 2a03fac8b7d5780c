package call

import (
	"context"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
)

// Adding a communication user whose calls an app automates (a subscription
// to IncomingCall names the user) does not ring SIP devices: the app gets an
// IncomingCall for the user, carrying the adder's custom context, and
// answers, rejects or redirects it like any incoming call. An app that
// answers joins the call as that user: the user is in the roster, the app
// gets a call connection of its own, and the user has no audio of its own
// (the app speaks through its connection's media operations).

// inviteTag tags an invitation's IncomingCall so that it stops being
// re-sent once the invitation is settled.
func inviteTag(invitationID string) string { return "invite:" + invitationID }

// inviteApp publishes the IncomingCall of an automated invitee and waits
// for an app to act on it until the invitation times out or is canceled.
func (c *Call) inviteApp(ctx context.Context, inv *invitation, from acs.Identifier, req AddRequest) {
	deadline, _ := ctx.Deadline()
	data := acs.IncomingCallData{
		To: req.Target.Model(), From: from.Model(), CallerDisplayName: req.DisplayName, ServerCallID: c.serverCallID,
		IncomingCallContext: sealContext(c.m.ctxKey, c.serverCallID, inv.id, deadline), CorrelationID: c.correlationID,
	}
	if len(req.VoipHeaders) > 0 || len(req.Headers) > 0 {
		data.CustomContext = &acs.CustomCallingContext{VoipHeaders: req.VoipHeaders, SIPHeaders: req.Headers}
	}
	pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	subject := "/caller/" + from.RawID + "/recipient/" + req.Target.RawID
	if err := c.m.events.Subscription(pctx, acs.EventIncomingCall, subject, req.Target, c.serverCallID, data, inviteTag(inv.id), deadline); err != nil {
		c.log.Error("publishing IncomingCall for an added participant failed", "error", err)
	}
	go func() {
		<-ctx.Done()
		err := ctx.Err()
		c.post(func() {
			if inv.app && c.invitation(inv.id) == inv {
				c.added(inv, nil, nil, nil, err)
			}
		})
	}()
	c.log.Info("adding an automated participant: IncomingCall raised", "target", req.Target.RawID, "invitation_id", inv.id)
}

// botOf finds the live participant an app's connection answers for.
func (c *Call) botOf(cn *connection) *participant {
	for _, p := range c.parts {
		if p.bot == cn && !p.gone {
			return p
		}
	}
	return nil
}

// invitation finds a pending invitation by id.
func (c *Call) invitation(id string) *invitation {
	for _, inv := range c.invites {
		if inv.id == id {
			return inv
		}
	}
	return nil
}

// appInvitation finds the pending invitation an incomingCallContext names.
func (c *Call) appInvitation(id, action string) (*invitation, error) {
	inv := c.invitation(id)
	if inv == nil || !inv.app || c.state != stateConnected {
		return nil, acs.InvalidState("the call cannot be %s: the invitation is no longer pending", action)
	}
	return inv, nil
}

// answerInvitation joins the answering app to the call as the invitee.
func (c *Call) answerInvitation(invID string, req AnswerRequest) (acs.CallConnectionProperties, error) {
	inv, err := c.appInvitation(invID, "answered")
	if err != nil {
		return acs.CallConnectionProperties{}, err
	}
	c.endInvite(inv)
	cn := &connection{
		id: newID(), callbackURI: req.CallbackURI, operationContext: req.OperationContext, apiVersion: req.APIVersion,
		state: acs.StateConnected, source: c.from, targets: []acs.Identifier{inv.target},
	}
	c.others = append(c.others, cn)
	c.m.addConn(cn.id, c)
	p := &participant{id: inv.target, bot: cn}
	c.log.Info("an app answered for an added participant", "target", inv.target.RawID, "call_connection_id", cn.id)
	c.inviteAnswered(inv, p) // the roster update reaches the new connection too
	c.emitFor(cn, cn.callbackURI, cn.operationContext, acs.EventCallConnected, &acs.ResultOK, nil)
	return c.properties(cn), nil
}

// rejectInvitation fails the invitation with the app's reason.
func (c *Call) rejectInvitation(invID string, status int, reason string) error {
	inv, err := c.appInvitation(invID, "rejected")
	if err != nil {
		return err
	}
	c.endInvite(inv)
	c.inviteFailed(inv, &DialError{Status: status, Reason: reason})
	return nil
}

// redirectInvitation rings target instead, by SIP, within what is left of
// the invitation's time.
func (c *Call) redirectInvitation(invID string, target acs.Identifier) error {
	inv, err := c.appInvitation(invID, "redirected")
	if err != nil {
		return err
	}
	ml, offer, err := c.offerLeg()
	if err != nil {
		return err
	}
	inv.app = false
	inv.cancel()
	c.m.events.Expire(inviteTag(inv.id))
	dctx, cancel := context.WithTimeout(context.Background(), c.m.cfg.DialTimeout)
	inv.cancel = cancel
	inv.target = target
	c.log.Info("an app redirected an added participant", "invitation_id", inv.id, "target", target.RawID)
	dial := DialRequest{Target: target, CallerID: c.to, SDP: offer}
	c.dialAsync(dctx, dial, ml, func(leg Leg, sdp []byte, err error) { c.added(inv, ml, leg, sdp, err) })
	return nil
}

// mediaParticipant is mustParticipant for operations on a participant's
// audio, which an app answering for a user does not have.
func (c *Call) mediaParticipant(id acs.Identifier) (*participant, error) {
	p, err := c.mustParticipant(id)
	if err == nil && p.media == nil {
		return nil, acs.Errorf(400, "BadRequest", 8558, "participant %s is an app and has no audio of its own", id.RawID)
	}
	return p, err
}
