package call

import (
	"context"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
)

// continuous is a continuous DTMF subscription on one participant.
type continuous struct {
	conn        *connection
	opContext   string
	callbackURI string
}

// StartContinuousDTMF reports every tone of target as it comes, until
// stopped. It coexists with a recognize operation: both see the tones.
func (m *Manager) StartContinuousDTMF(ctx context.Context, connID string, target acs.Identifier, opContext, callbackURI string) error {
	return m.onParticipant(ctx, connID, target, func(c *Call, cn *connection, p *participant) error {
		p.continuous = &continuous{conn: cn, opContext: opContext, callbackURI: callbackURI}
		c.syncInband()
		return nil
	})
}

// StopContinuousDTMF ends continuous DTMF recognition on target.
func (m *Manager) StopContinuousDTMF(ctx context.Context, connID string, target acs.Identifier, opContext, callbackURI string) error {
	return m.onParticipant(ctx, connID, target, func(c *Call, cn *connection, p *participant) error {
		if p.continuous == nil {
			return acs.Errorf(400, "BadRequest", 8585, "continuous DTMF recognition is not running for %s", target.RawID)
		}
		p.continuous = nil
		c.syncInband()
		url := cn.callbackURI
		if callbackURI != "" {
			url = callbackURI
		}
		c.emitFor(cn, url, opContext, acs.EventContinuousStopped, &acs.ResultPlayOK, nil)
		return nil
	})
}

// onParticipant runs f on the call's goroutine with a live participant
// that has audio.
func (m *Manager) onParticipant(ctx context.Context, connID string, target acs.Identifier, f func(*Call, *connection, *participant) error) error {
	return m.onConnected(ctx, connID, func(c *Call, cn *connection) error {
		p, err := c.mediaParticipant(target)
		if err != nil {
			return err
		}
		return f(c, cn, p)
	})
}

// continuousTone reports a tone to a continuous DTMF subscriber.
func (c *Call) continuousTone(p *participant, digit byte) {
	cd := p.continuous
	if cd == nil || cd.conn.state == acs.StateDisconnected {
		return
	}
	name, _ := acs.ToneName(digit)
	cd.conn.toneSeq++
	seq := cd.conn.toneSeq
	url := cd.conn.callbackURI
	if cd.callbackURI != "" {
		url = cd.callbackURI
	}
	c.emitFor(cd.conn, url, cd.opContext, acs.EventContinuousToneReceived, &acs.ResultPlayOK, func(b *acs.CallEventData) any {
		return acs.ToneReceivedData{CallEventData: *b, SequenceID: seq, Tone: name}
	})
}

// continuousToneFailed tells a continuous DTMF subscriber that a signal
// arrived that is not a tone it can report (e.g. a hook flash).
func (c *Call) continuousToneFailed(p *participant) {
	cd := p.continuous
	if cd == nil || cd.conn.state == acs.StateDisconnected {
		return
	}
	url := cd.conn.callbackURI
	if cd.callbackURI != "" {
		url = cd.callbackURI
	}
	c.emitFor(cd.conn, url, cd.opContext, acs.EventContinuousToneFailed, &acs.ResultIncorrectTone, nil)
}

// Hold takes target out of the conversation: what they say no longer
// reaches the others, and they hear music on hold (the play source, looped)
// or silence. ParticipantsUpdated shows isOnHold.
func (m *Manager) Hold(ctx context.Context, connID string, target acs.Identifier, music *acs.PlaySource, opContext, callbackURI string) error {
	if music != nil {
		if err := music.Validate(); err != nil {
			return acs.BadRequest("playSourceInfo: %v", err)
		}
	}
	return m.onParticipant(ctx, connID, target, func(c *Call, cn *connection, p *participant) error {
		if p.hold {
			return nil
		}
		hm := c.m.media.NewMixer()
		if err := hm.Add(p.media); err != nil {
			hm.Close()
			return err
		}
		p.hold, p.holdMixer = true, hm
		c.emitParticipantsUpdated()
		if music != nil {
			c.playHoldMusic(cn, p, hm, *music, opContext, callbackURI)
		}
		return nil
	})
}

// playHoldMusic loads music on hold off the call's goroutine and loops it
// into the participant's hold mixer; a failure is a HoldFailed.
func (c *Call) playHoldMusic(cn *connection, p *participant, hm *media.Mixer, src acs.PlaySource, opContext, callbackURI string) {
	loader := c.m.prompts
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
		defer cancel()
		if loader == nil {
			return
		}
		prompt, err := loader.Load(ctx, src)
		c.post(func() {
			if p.holdMixer != hm {
				return // unheld meanwhile
			}
			if err != nil {
				c.log.Info("music on hold failed", "error", err)
				url := cn.callbackURI
				if callbackURI != "" {
					url = callbackURI
				}
				res := acs.ResultDownloadFail
				var pe *PlayError
				if asPlayError(err, &pe) {
					res = pe.Result
				}
				c.emitFor(cn, url, opContext, acs.EventHoldFailed, &res, nil)
				return
			}
			hm.SetSource(audioLoop(prompt))
		})
	}()
}

// Unhold brings a held participant back into the conversation.
func (m *Manager) Unhold(ctx context.Context, connID string, target acs.Identifier) error {
	return m.onParticipant(ctx, connID, target, func(c *Call, _ *connection, p *participant) error {
		if !p.hold {
			return nil
		}
		c.unhold(p)
		c.emitParticipantsUpdated()
		return nil
	})
}

func (c *Call) unhold(p *participant) {
	if c.state != stateEnded {
		c.mixer.Add(p.media)
	}
	p.holdMixer.Remove(p.media)
	p.holdMixer.Close()
	p.hold, p.holdMixer = false, nil
}

// syncInband runs in-band DTMF detection (costly, and only used when a peer
// did not negotiate telephone-event) on the participants whose digits
// someone is waiting for: the target of the running recognize, and those
// with continuous DTMF recognition.
func (c *Call) syncInband() {
	var target *participant
	if len(c.ops) > 0 && c.ops[0].rec != nil && !c.ops[0].ended {
		target = c.ops[0].rec.target
	}
	for _, p := range c.parts {
		if p.gone || p.media == nil {
			continue
		}
		if want := p.continuous != nil || p == target; want != p.inband {
			p.inband = want
			p.media.SetInbandDTMF(want)
		}
	}
}
