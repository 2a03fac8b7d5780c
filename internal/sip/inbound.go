package sip

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/call"
)

// onInvite authenticates and routes a new INVITE and hands it to the call core.
func (s *Server) onInvite(req *gsip.Request, tx gsip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params != nil {
		if tag, ok := to.Params.Get("tag"); ok && tag != "" {
			// A re-INVITE (hold, session refresh): keep the session as is.
			s.onReInvite(req, tx)
			return
		}
	}
	respond := func(code int, reason string) {
		tx.Respond(gsip.NewResponseFromRequest(req, code, reason, nil))
	}
	if req.Contact() == nil || req.From() == nil || req.To() == nil {
		respond(400, "Bad Request")
		return
	}
	if ct := req.ContentType(); ct == nil || !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp") || len(req.Body()) == 0 {
		// No offer in the INVITE (late offer) is not supported.
		respond(488, "Not Acceptable Here")
		return
	}
	if err := s.calls.Admissible(); err != nil {
		// Overload or shutdown: refuse before doing any work for the call,
		// and say when to try again (RFC 3261 §21.5.4).
		retry := "5"
		if acs.AsError(err).Status == 429 {
			retry = "1" // only the setup rate is exceeded
		}
		res := gsip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
		res.AppendHeader(gsip.NewHeader("Retry-After", retry))
		tx.Respond(res)
		return
	}
	respond(100, "Trying")

	from, to, ok := s.classify(req, tx)
	if !ok {
		return // classify has answered
	}
	// Requests inside the dialog (BYE) go back where the INVITE came from:
	// over the same TCP/TLS connection, and through NATs.
	dlg, err := (&sipgo.DialogUA{Client: s.cli, ContactHDR: s.contact, RewriteContact: true}).ReadInvite(req, tx)
	if err != nil {
		s.log.Info("refusing INVITE", "error", err)
		respond(400, "Bad Request")
		return
	}
	l := &inLeg{dlg: dlg, final: make(chan struct{})}
	l.leg = leg{s: s, dlg: dlg, remote: req.Contact().Address, callID: req.CallID().Value(), forget: func() {
		s.mu.Lock()
		delete(s.inbound, dlg.ID)
		s.mu.Unlock()
	}}
	s.mu.Lock()
	s.inbound[dlg.ID] = l
	s.mu.Unlock()
	dlg.OnState(l.onState)
	display := ""
	if f := req.From(); f != nil {
		display = f.DisplayName
	}
	s.calls.Incoming(call.Incoming{From: from, To: to, DisplayName: display, Leg: l, CustomContext: customContext(req)})
	// sipgo ends the INVITE transaction when this handler returns, so stay
	// until the final response is done (and, for a 2xx, acknowledged) or the
	// caller gave up.
	select {
	case <-l.final:
	case <-dlg.Context().Done():
	}
}

// classify finds who is calling whom: a trunk (by source address) calling an
// owned number, or a registered user (by digest) calling an owned number or
// another user. It answers the request itself when the call is refused.
func (s *Server) classify(req *gsip.Request, tx gsip.ServerTransaction) (from, to acs.Identifier, ok bool) {
	respond := func(code int, reason string) {
		tx.Respond(gsip.NewResponseFromRequest(req, code, reason, nil))
	}
	ctx := context.Background()
	host, _, _ := net.SplitHostPort(req.Source())
	src := net.ParseIP(host)
	callee := req.Recipient.User
	fromUser := req.From().Address.User

	for _, t := range s.trunks {
		if src == nil || !t.allows(src) {
			continue
		}
		number := normalizeNumber(callee)
		if number == "" || !s.ownsNumber(ctx, number) || !t.carries(number) {
			s.log.Info("trunk call to a number we do not serve", "trunk", t.Name, "callee", callee)
			respond(404, "Not Found")
			return from, to, false
		}
		caller := acs.PhoneNumber(normalizeNumber(fromUser))
		if caller.Phone() == "+" || normalizeNumber(fromUser) == "" {
			caller = acs.Identifier{Kind: acs.KindPhoneNumber, RawID: "4:anonymous"}
		}
		return caller, acs.PhoneNumber(number), true
	}

	// Not a trunk: it must be a registered user proving who it is.
	user, authed := s.reg.Authenticate(req, tx)
	if !authed {
		return from, to, false // challenged or refused
	}
	from = acs.CommunicationUser(s.store.UserID(user))
	if number := normalizeNumber(callee); number != "" && s.ownsNumber(ctx, number) {
		return from, acs.PhoneNumber(number), true
	}
	if _, err := s.store.User(ctx, callee); err == nil {
		return from, acs.CommunicationUser(s.store.UserID(callee)), true
	}
	respond(404, "Not Found")
	return from, to, false
}

// ownsNumber reports whether an E.164 number belongs to this server.
func (s *Server) ownsNumber(ctx context.Context, number string) bool {
	for _, n := range s.cfg.Numbers {
		if n == number {
			return true
		}
	}
	_, ok, err := s.store.HasNumber(ctx, number)
	if err != nil {
		s.log.Error("number lookup failed", "error", err)
	}
	return ok
}

// customContext collects the INVITE's custom headers for IncomingCall.
func customContext(req *gsip.Request) *acs.CustomCallingContext {
	var cc *acs.CustomCallingContext
	for _, h := range req.Headers() {
		name := h.Name()
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-ms-custom-") || lower == "user-to-user" {
			if cc == nil {
				cc = &acs.CustomCallingContext{SIPHeaders: map[string]string{}}
			}
			if lower == "user-to-user" {
				name = "userToUser"
			}
			cc.SIPHeaders[name] = h.Value()
		}
	}
	return cc
}

// onReInvite answers a re-INVITE with our current SDP (the session does not
// change; hold comes with the media work).
func (s *Server) onReInvite(req *gsip.Request, tx gsip.ServerTransaction) {
	id, _ := gsip.DialogIDFromRequestUAS(req)
	s.mu.Lock()
	l := s.inbound[id]
	s.mu.Unlock()
	if l == nil || l.localSDP == nil {
		tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	res := gsip.NewSDPResponseFromRequest(req, l.localSDP)
	res.AppendHeader(&s.contact)
	tx.Respond(res)
}

// inLeg is an incoming dialog (we are the UAS).
type inLeg struct {
	leg
	dlg       *sipgo.DialogServerSession
	localSDP  []byte
	final     chan struct{} // closed when the final response is settled
	finalOnce sync.Once
}

func (l *inLeg) RemoteSDP() []byte { return l.dlg.InviteRequest.Body() }

func (l *inLeg) Ring() error { return l.dlg.Respond(180, "Ringing", nil) }

func (l *inLeg) Accept(sdp []byte, acked func(error)) error {
	if l.dlg.LoadState() == gsip.DialogStateEnded {
		return errors.New("the caller has hung up")
	}
	l.localSDP = sdp
	// RespondSDP blocks until the ACK; the 200 OK goes out before it waits.
	sent := make(chan error, 1)
	go func() {
		err := l.dlg.RespondSDP(sdp)
		l.settle()
		select {
		case sent <- err:
		default:
		}
		acked(err)
	}()
	// Give the transaction a moment to refuse at once (e.g. already canceled).
	select {
	case err := <-sent:
		if err != nil {
			return err
		}
	default:
	}
	return nil
}

func (l *inLeg) Reject(status int, reason string) error {
	l.local.Store(true)
	defer l.forget()
	defer l.settle()
	if status == 503 {
		// Overload or shutdown: tell the caller when to try again (RFC 3261 §21.5.4).
		return l.dlg.Respond(status, reason, nil, gsip.NewHeader("Retry-After", "5"))
	}
	return l.dlg.Respond(status, reason, nil)
}

func (l *inLeg) settle() { l.finalOnce.Do(func() { close(l.final) }) }
