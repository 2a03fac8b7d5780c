package media

import "github.com/switchboard-oss/switchboard/internal/media/dtmf"

// In-band DTMF reception. When the negotiated session has no
// telephone-event, peers (and the gateways behind them) send digits as
// tones in the audio, so the leg runs a dtmf.Detector on the audio it
// receives and reports digits through Handler.DTMF and DTMFEndHandler
// exactly as RFC 4733 events. When telephone-event is negotiated only the
// events count: a sender may leave the tones in the audio as well, and
// detecting both would report every digit twice.
//
// Detection runs when the clock drains the leg's socket, on each decoded
// packet before it is queued for the mixer, so the audio is seen before the
// receive buffer drops any. Digits reach the Handler through the engine's
// notifier goroutine (notify.go), never from the clock itself: Handler
// methods may call back into the leg, and a slow handler must not stall
// every call's media. As with RFC 4733, digits are reported whether or not
// the leg is in a mixer.

// Gap filling: a timestamp jump of at least inbandGapMin samples (packets
// lost, or a sender that stops during pauses) is fed to the detector as
// silence, up to inbandGapMax samples, so that a pause between two equal
// digits is not lost. Shorter jumps (one lost packet) are not filled, so
// a lost packet does not split a digit.
const (
	inbandGapMin = 2 * FrameSamples
	inbandGapMax = 5 * FrameSamples
)

var inbandSilence [inbandGapMax]int16

// inbandState is the in-band detector of a leg, guarded by Leg.rxMu.
type inbandState struct {
	on     bool   // the detector is running
	ssrc   uint32 // source of the last packet fed
	nextTS uint32 // RTP timestamp expected next from ssrc
	det    dtmf.Detector
	emit   func(dtmf.Event) // l.inbandEvent, bound once so that detecting does not allocate
}

// detectInband feeds decoded audio to the detector when telephone-event
// was not negotiated and detection is wanted (SetInbandDTMF).
func (l *Leg) detectInband(h rtpHeader, pcm []int16, neg *negotiated) {
	ib := &l.rd.inband
	if neg.txEventPT >= 0 || l.noInband.Load() {
		ib.on = false
		return
	}
	switch {
	case !ib.on || h.ssrc != ib.ssrc:
		ib.det.Reset() // a new source (RFC 3550 §8.2) or detection (re)starts
		ib.on, ib.ssrc = true, h.ssrc
	default:
		if gap := int32(h.timestamp - ib.nextTS); gap >= inbandGapMin {
			ib.det.Process(inbandSilence[:min(gap, inbandGapMax)], ib.emit)
		}
	}
	ib.det.Process(pcm, ib.emit)
	ib.nextTS = h.timestamp + uint32(len(pcm))
}

// inbandEvent reports a detected digit like an RFC 4733 event.
func (l *Leg) inbandEvent(ev dtmf.Event) {
	d := DTMFEvent{Digit: ev.Digit, Duration: ev.Duration}
	if !ev.End {
		l.stats.dtmf.Add(1)
	}
	l.e.notify(l, d, ev.End)
}
