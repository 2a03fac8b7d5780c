package call

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/store"
)

// EndCause says why a SIP leg ended on its own (not because we ended it).
type EndCause int

const (
	// EndRemoteBye: the peer hung up (BYE).
	EndRemoteBye EndCause = iota + 1
	// EndCanceled: the caller canceled before the call was answered.
	EndCanceled
	// EndFailed: the dialog failed (transport error, no ACK).
	EndFailed
)

func (c EndCause) String() string {
	switch c {
	case EndRemoteBye:
		return "remote-bye"
	case EndCanceled:
		return "canceled"
	case EndFailed:
		return "failed"
	}
	return fmt.Sprintf("EndCause(%d)", int(c))
}

// Leg is the signalling side of one participant: a SIP dialog.
type Leg interface {
	// SIPCallID is the dialog's Call-ID, for logs and call records.
	SIPCallID() string
	// OnEnd registers f to be called (once, from any goroutine) when the peer
	// ends the leg: BYE, CANCEL or dialog failure.
	OnEnd(f func(EndCause))
	// Hangup ends an established leg (BYE). It is safe to call more than once.
	Hangup(ctx context.Context) error
	// OnDTMF registers f to be called with each digit the peer signals in
	// SIP INFO (application/dtmf-relay, application/dtmf).
	OnDTMF(f func(digit byte))
	// Refer asks the peer to call target itself (blind transfer). nil means
	// the peer accepted; a *DialError says it refused (e.g. 405, 603).
	Refer(ctx context.Context, target acs.Identifier) error
	// OnReferStatus registers f for the peer's reports of its referred call
	// (the status of each NOTIFY; 2xx and higher are final).
	OnReferStatus(f func(status int))
}

// InboundLeg is a leg created by an incoming INVITE that is not yet answered.
type InboundLeg interface {
	Leg
	// RemoteSDP is the INVITE's SDP offer.
	RemoteSDP() []byte
	// Ring sends 180 Ringing.
	Ring() error
	// Accept sends 200 OK with the SDP answer. acked is called once the ACK
	// arrives (err nil) or the 200 OK timed out (err non-nil).
	Accept(sdp []byte, acked func(error)) error
	// Reject sends a final failure status.
	Reject(status int, reason string) error
}

// DialRequest asks the signalling layer to place a call.
type DialRequest struct {
	Target      acs.Identifier
	CallerID    acs.Identifier // shown to the callee (From)
	DisplayName string
	SDP         []byte            // our offer
	Headers     map[string]string // extra SIP headers (X-MS-Custom-*, User-To-User)
}

// DialError is a dial that ended with a SIP failure status.
type DialError struct {
	Status int
	Reason string
}

func (e *DialError) Error() string { return fmt.Sprintf("dial failed: %d %s", e.Status, e.Reason) }

// Signaling places outgoing calls. Dial blocks until the callee answers
// (returning the established leg and the SDP answer), fails (a *DialError),
// or ctx ends, in which case the attempt is canceled and ctx's error returned.
type Signaling interface {
	Dial(ctx context.Context, req DialRequest) (Leg, []byte, error)
}

// EventSink delivers events. Callback events go to an app's callback URI in
// order per call connection; subscription events go to the Event Grid-style
// subscriptions whose filter matches.
type EventSink interface {
	Callback(ctx context.Context, url, callConnectionID, eventType string, data any) error
	Subscription(ctx context.Context, eventType, subject string, to acs.Identifier, orderKey string, data any, tag string, expires time.Time) error
	// Expire stops re-sending undelivered subscription events with tag.
	Expire(tag string)
	// Automated reports whether an app takes the calls of identity to: a
	// subscription to IncomingCall names it.
	Automated(to acs.Identifier) bool
}

// RecordSink stores call records.
type RecordSink interface {
	SaveCallRecord(ctx context.Context, r store.CallRecord) error
}
