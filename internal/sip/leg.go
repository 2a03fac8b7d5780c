package sip

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	gsip "github.com/emiago/sipgo/sip"
	"github.com/switchboard-oss/switchboard/internal/call"
)

// dialog is what sipgo's server and client dialog sessions have in common.
type dialog interface {
	LoadState() gsip.DialogState
	Context() context.Context
	Bye(ctx context.Context) error
	ReadBye(req *gsip.Request, tx gsip.ServerTransaction) error
}

// leg is the part of inLeg and outLeg that follows a dialog to its end and
// tells the call core how it ended (call.Leg).
type leg struct {
	dlg       dialog
	callID    string
	forget    func() // removes the leg from the server's dialog table
	remoteBye atomic.Bool
	local     atomic.Bool // we ended it (reject or BYE)
	endOnce   sync.Once
	mu        sync.Mutex
	onEnd     func(call.EndCause)
	onDTMF    func(digit byte)
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
