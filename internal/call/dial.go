package call

import (
	"context"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
)

// The call places new legs the same way for createCall, addParticipant
// and redirect: a media leg and its offer, a dial off the call's goroutine,
// and the answer applied back on it.

// offerLeg creates a media leg and its SDP offer.
func (c *Call) offerLeg() (*media.Leg, []byte, error) {
	ml, err := c.newMediaLeg()
	if err != nil {
		return nil, nil, acs.Unavailable("no media port available")
	}
	offer, err := ml.Offer()
	if err != nil {
		ml.Close()
		return nil, nil, err
	}
	return ml, offer, nil
}

// dialAsync dials req off the call's goroutine and hands the outcome to
// done on it. If the call has ended by then, the leg is freed instead.
func (c *Call) dialAsync(ctx context.Context, req DialRequest, ml *media.Leg, done func(leg Leg, sdp []byte, err error)) {
	go func() {
		leg, sdp, err := c.m.sig.Dial(ctx, req)
		if !c.post(func() { done(leg, sdp, err) }) {
			discard(ml, leg, err)
		}
	}()
}

// discard frees a dial nobody wants any more.
func discard(ml *media.Leg, leg Leg, err error) {
	if err == nil && leg != nil {
		go leg.Hangup(context.Background())
	}
	if ml != nil {
		ml.Close()
	}
}

// settle applies an answered dial's SDP answer to its media leg. An answer
// we cannot use hangs the leg up and counts as a 488.
func settle(ml *media.Leg, leg Leg, sdp []byte, err error) error {
	if err != nil {
		return err
	}
	if err := ml.SetRemoteAnswer(sdp); err != nil {
		go leg.Hangup(context.Background())
		return &DialError{Status: 488, Reason: "Not Acceptable Here"}
	}
	return nil
}
