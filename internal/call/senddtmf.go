package call

import (
	"context"

	"github.com/switchboard-oss/switchboard/internal/acs"
)

// maxSendTones is ACS's limit on tones per sendDtmfTones request.
const maxSendTones = 18

// sendOp is a sendDtmfTones in progress.
type sendOp struct {
	conn        *connection
	opContext   string
	callbackURI string
	ended       bool
}

// SendDTMF plays tones to a participant: RFC 4733 events when their side
// negotiated telephone-event, in-band tones otherwise. SendDtmfTonesCompleted
// or SendDtmfTonesFailed follows.
func (m *Manager) SendDTMF(ctx context.Context, connID string, target acs.Identifier, tones []string, opContext, callbackURI string) error {
	if len(tones) == 0 || len(tones) > maxSendTones {
		return acs.BadRequest("tones must hold 1 to %d tones", maxSendTones)
	}
	digits := make([]byte, 0, len(tones))
	for _, t := range tones {
		d, ok := acs.ToneDigit(t)
		if !ok {
			return acs.BadRequest("%q is not a tone", t)
		}
		digits = append(digits, d)
	}
	return m.onParticipant(ctx, connID, target, func(c *Call, cn *connection, p *participant) error {
		op := &sendOp{conn: cn, opContext: opContext, callbackURI: callbackURI}
		c.sends = append(c.sends, op)
		p.media.SendDigits(string(digits), 0, 0, func(err error) {
			c.post(func() {
				if err != nil {
					c.log.Info("sending DTMF failed", "error", err)
					c.finishSend(op, acs.EventSendDTMFFailed, acs.ResultCanceled)
					return
				}
				c.finishSend(op, acs.EventSendDTMFCompleted, acs.ResultPlayOK)
			})
		})
		return nil
	})
}

// finishSend sends a sendDtmfTones operation's one terminal event.
func (c *Call) finishSend(op *sendOp, event string, res acs.ResultInformation) {
	if op.ended {
		return
	}
	op.ended = true
	for i, s := range c.sends {
		if s == op {
			c.sends = append(c.sends[:i], c.sends[i+1:]...)
			break
		}
	}
	url := op.conn.callbackURI
	if op.callbackURI != "" {
		url = op.callbackURI
	}
	c.emitFor(op.conn, url, op.opContext, event, &res, nil)
}
