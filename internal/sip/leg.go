package sip

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	gsip "github.com/emiago/sipgo/sip"
	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/call"
)

// dialog is what sipgo's server and client dialog sessions have in common.
type dialog interface {
	LoadState() gsip.DialogState
	Context() context.Context
	Bye(ctx context.Context) error
	ReadBye(req *gsip.Request, tx gsip.ServerTransaction) error
	Do(ctx context.Context, req *gsip.Request) (*gsip.Response, error)
}

// leg is the part of inLeg and outLeg that follows a dialog to its end and
// tells the call core how it ended (call.Leg).
type leg struct {
	s         *Server
	dlg       dialog
	remote    gsip.Uri // the peer's Contact: where in-dialog requests go
	callID    string
	forget    func() // removes the leg from the server's dialog table
	remoteBye atomic.Bool
	local     atomic.Bool // we ended it (reject or BYE)
	endOnce   sync.Once
	mu        sync.Mutex
	onEnd     func(call.EndCause)
	onDTMF    func(digit byte)
	onNotify  func(status int)
}

func (l *leg) OnDTMF(f func(digit byte)) {
	l.mu.Lock()
	l.onDTMF = f
	l.mu.Unlock()
}

// dtmf reports a digit signalled in SIP INFO.
func (l *leg) dtmf(d byte) {
	l.mu.Lock()
	f := l.onDTMF
	l.mu.Unlock()
	if f != nil {
		f(d)
	}
}

func (l *leg) SIPCallID() string { return l.callID }

func (l *leg) OnEnd(f func(call.EndCause)) {
	l.mu.Lock()
	l.onEnd = f
	l.mu.Unlock()
	if l.dlg.LoadState() == gsip.DialogStateEnded {
		l.onState(gsip.DialogStateEnded) // ended before anyone listened
	}
}

func (l *leg) Hangup(ctx context.Context) error {
	l.local.Store(true)
	defer l.forget()
	if l.dlg.LoadState() == gsip.DialogStateEnded {
		return nil
	}
	return l.dlg.Bye(ctx)
}

// readBye answers the peer's BYE and marks the end as theirs.
func (l *leg) readBye(req *gsip.Request, tx gsip.ServerTransaction) {
	l.remoteBye.Store(true)
	if err := l.dlg.ReadBye(req, tx); err != nil {
		tx.Respond(gsip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
	}
}

// onState reports the end of the dialog to the call core, unless we ended it.
func (l *leg) onState(st gsip.DialogState) {
	if st != gsip.DialogStateEnded {
		return
	}
	l.forget()
	if l.local.Load() {
		return
	}
	cause := call.EndFailed
	switch {
	case l.remoteBye.Load():
		cause = call.EndRemoteBye
	case errors.Is(context.Cause(l.dlg.Context()), gsip.ErrTransactionCanceled):
		cause = call.EndCanceled
	}
	l.mu.Lock()
	f := l.onEnd
	l.mu.Unlock()
	if f == nil {
		return // OnEnd will replay the end
	}
	l.endOnce.Do(func() { go f(cause) }) // not under sipgo's locks
}

// Refer asks the peer to call target itself (RFC 3515 blind transfer). It
// returns once the peer answered the REFER: nil for 202 Accepted, a
// *call.DialError with the status otherwise. The outcome of the peer's call
// arrives later through OnReferStatus, from the NOTIFY sipfrag (RFC 3515 §2.4.5).
func (l *leg) Refer(ctx context.Context, target acs.Identifier) error {
	attempts, err := l.s.route(ctx, target)
	if err != nil {
		return err
	}
	to := attempts[0].uri
	req := gsip.NewRequest(gsip.REFER, l.remote)
	req.AppendHeader(gsip.NewHeader("Refer-To", "<"+to.String()+">"))
	req.AppendHeader(gsip.NewHeader("Referred-By", "<sip:switchboard@"+l.s.cfg.SIP.AdvertiseHost+">"))
	res, err := l.dlg.Do(ctx, req)
	if err != nil {
		return &call.DialError{Status: 408, Reason: "REFER not answered: " + err.Error()}
	}
	if res.StatusCode/100 != 2 {
		return &call.DialError{Status: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// OnReferStatus registers f for the final status the peer reports for its
// referred call.
func (l *leg) OnReferStatus(f func(status int)) {
	l.mu.Lock()
	l.onNotify = f
	l.mu.Unlock()
}

// referStatus reports a sipfrag status from a NOTIFY.
func (l *leg) referStatus(status int) {
	l.mu.Lock()
	f := l.onNotify
	l.mu.Unlock()
	if f != nil {
		f(status)
	}
}
