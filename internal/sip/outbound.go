package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/call"
)

// attempt is one INVITE to send: where, and how to authenticate if asked.
type attempt struct {
	uri          gsip.Uri
	destination  string // host:port to send to (registered contacts behind NAT); "" = from the URI
	user, passwd string
}

// Dial places a call (call.Signaling). A phone number goes through the first
// trunk whose routes match; a communication user rings every registration at
// once and the first to answer wins.
func (s *Server) Dial(ctx context.Context, req call.DialRequest) (call.Leg, []byte, error) {
	attempts, err := s.route(ctx, req.Target)
	if err != nil {
		return nil, nil, err
	}
	if len(attempts) == 1 {
		return s.dialOne(ctx, req, attempts[0])
	}
	return s.fork(ctx, req, attempts)
}

// route finds where to send a call to target.
func (s *Server) route(ctx context.Context, target acs.Identifier) ([]attempt, error) {
	switch target.Kind {
	case acs.KindPhoneNumber:
		number := target.Phone()
		for _, t := range s.trunks {
			if !t.routes(number) {
				continue
			}
			host, port, err := gsip.ParseAddr(t.Address)
			if err != nil {
				return nil, fmt.Errorf("trunk %s address: %w", t.Name, err)
			}
			u := gsip.Uri{Scheme: "sip", User: number, Host: host, Port: port, UriParams: gsip.NewParams()}
			if t.Transport != "udp" {
				u.UriParams.Add("transport", t.Transport)
			}
			return []attempt{{uri: u, user: t.Username, passwd: t.Password}}, nil
		}
		return nil, &call.DialError{Status: 404, Reason: "No trunk routes " + number}
	case acs.KindCommunicationUser:
		user, ok := s.store.UsernameOf(target.RawID)
		if !ok {
			return nil, &call.DialError{Status: 404, Reason: "Not a user of this server"}
		}
		if _, err := s.store.User(ctx, user); err != nil {
			return nil, &call.DialError{Status: 404, Reason: "Unknown user"}
		}
		var out []attempt
		for _, b := range s.reg.Lookup(user) {
			a := attempt{uri: b.Contact}
			if strings.EqualFold(b.Transport, "udp") || b.Transport == "" {
				a.destination = b.Source
			}
			out = append(out, a)
		}
		if len(out) == 0 {
			return nil, &call.DialError{Status: 480, Reason: "Temporarily Unavailable (not registered)"}
		}
		return out, nil
	}
	return nil, &call.DialError{Status: 404, Reason: "Cannot call identifiers of kind " + target.Kind}
}

// dialOne sends one INVITE and waits for its outcome.
func (s *Server) dialOne(ctx context.Context, req call.DialRequest, a attempt) (call.Leg, []byte, error) {
	invite := gsip.NewRequest(gsip.INVITE, a.uri)
	if a.destination != "" {
		invite.SetDestination(a.destination)
	}
	if tp, ok := a.uri.UriParams.Get("transport"); ok && tp != "" {
		invite.SetTransport(strings.ToUpper(tp))
	}
	fromUser := "switchboard"
	switch {
	case req.CallerID.Kind == acs.KindPhoneNumber:
		fromUser = req.CallerID.Phone()
	case req.CallerID.Kind == acs.KindCommunicationUser:
		if u, ok := s.store.UsernameOf(req.CallerID.RawID); ok {
			fromUser = u
		}
	}
	from := &gsip.FromHeader{DisplayName: req.DisplayName, Address: gsip.Uri{Scheme: "sip", User: fromUser, Host: s.cfg.SIP.AdvertiseHost}, Params: gsip.NewParams()}
	from.Params.Add("tag", gsip.GenerateTagN(16))
	invite.AppendHeader(from)
	invite.AppendHeader(&gsip.ToHeader{Address: gsip.Uri{Scheme: "sip", User: a.uri.User, Host: a.uri.Host, Port: a.uri.Port}, Params: gsip.NewParams()})
	if req.CallerID.Kind == acs.KindPhoneNumber {
		invite.AppendHeader(gsip.NewHeader("P-Asserted-Identity", fmt.Sprintf("<sip:%s@%s>", fromUser, s.cfg.SIP.AdvertiseHost)))
	}
	for k, v := range req.Headers {
		invite.AppendHeader(gsip.NewHeader(k, v))
	}
	invite.AppendHeader(gsip.NewHeader("Content-Type", "application/sdp"))
	invite.SetBody(req.SDP)

	ua := &sipgo.DialogUA{Client: s.cli, ContactHDR: s.contact, RewriteContact: true}
	dlg, err := ua.WriteInvite(ctx, invite)
	if err != nil {
		return nil, nil, &call.DialError{Status: 503, Reason: "Sending INVITE failed: " + err.Error()}
	}
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: a.user, Password: a.passwd})
	if err != nil {
		dlg.Close()
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return nil, nil, &call.DialError{Status: de.Res.StatusCode, Reason: de.Res.Reason}
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, &call.DialError{Status: 408, Reason: "Request Timeout"}
	}
	if err := dlg.Ack(context.Background()); err != nil {
		s.log.Warn("sending ACK failed", "error", err)
	}
	remote := a.uri
	if c := dlg.InviteResponse.Contact(); c != nil {
		remote = c.Address
	}
	l := &outLeg{leg{s: s, dlg: dlg, remote: remote, callID: invite.CallID().Value(), forget: func() {
		s.mu.Lock()
		delete(s.outbound, dlg.ID)
		s.mu.Unlock()
	}}}
	s.mu.Lock()
	s.outbound[dlg.ID] = l
	s.mu.Unlock()
	dlg.OnState(l.onState)
	return l, dlg.InviteResponse.Body(), nil
}

// fork rings several contacts at once; the first answer wins and the others
// are canceled (or hung up if they answered too).
func (s *Server) fork(ctx context.Context, req call.DialRequest, attempts []attempt) (call.Leg, []byte, error) {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		leg call.Leg
		sdp []byte
		err error
	}
	results := make(chan result, len(attempts))
	var wg sync.WaitGroup
	for _, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leg, sdp, err := s.dialOne(fctx, req, a)
			results <- result{leg, sdp, err}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	var winner *result
	var lastErr error = &call.DialError{Status: 480, Reason: "Temporarily Unavailable"}
	for r := range results {
		switch {
		case r.err == nil && winner == nil:
			winner = &r
			cancel() // stop the others ringing
		case r.err == nil:
			go r.leg.Hangup(context.Background()) // answered too late
		case winner == nil:
			var de *call.DialError
			if errors.As(r.err, &de) && de.Status >= 600 {
				lastErr = r.err // a global failure (603 Decline) wins over others
			} else if lastErr == nil || !isGlobal(lastErr) {
				lastErr = r.err
			}
		}
	}
	if winner != nil {
		return winner.leg, winner.sdp, nil
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	return nil, nil, lastErr
}

func isGlobal(err error) bool {
	var de *call.DialError
	return errors.As(err, &de) && de.Status >= 600
}

// outLeg is an outgoing dialog (we are the UAC).
type outLeg struct{ leg }
