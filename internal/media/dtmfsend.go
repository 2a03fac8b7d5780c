package media

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/switchboard-oss/switchboard/internal/media/dtmf"
)

// ErrInvalidDigit is reported by SendDigits for a string holding a
// character other than 0-9, *, #, A-D (or a-d).
var ErrInvalidDigit = errors.New("media: invalid DTMF digit")

// Digit timing of SendDigits. Durations are rounded up to whole frames.
const (
	DefaultDigitDuration = 100 * time.Millisecond
	DefaultDigitGap      = 60 * time.Millisecond

	minDigitDuration = 40 * time.Millisecond // shortest tone receivers must accept (ITU-T Q.24)
	maxDigitDuration = 8 * time.Second       // fits the 16-bit duration field (RFC 4733 §2.3.5)
	minDigitGap      = 40 * time.Millisecond // shortest pause (Q.24); also fits the end retransmissions
	maxDigitGap      = 10 * time.Second
)

const (
	eventVolume    = 10 // -10 dBm0, the volume field of RFC 4733 §2.3.4
	eventEndCopies = 3  // the final packet is sent three times (RFC 4733 §2.5.1.4)
)

// digitRequest is one SendDigits call.
type digitRequest struct {
	digits     string // validated, upper case
	toneFrames int
	gapFrames  int
	done       func(error)
}

// digitSender plays the leg's queued digit requests, one frame per tick;
// owned by the clock goroutine.
type digitSender struct {
	req   *digitRequest // request being played, nil when idle
	idx   int           // digit being played
	frame int           // frames of that digit played so far: tone, then gap
	event bool          // the digit goes as telephone-events, not as tones
	code  uint8         // its event code (RFC 4733 §3.2)
	ts    uint32        // RTP timestamp of its first event packet
	dur   uint16        // duration in the last event packet
	tone  dtmf.Tone     // in-band tone
}

// eventPacket describes a telephone-event packet to send instead of audio.
type eventPacket struct {
	send, marker, end bool
	code              uint8
	ts                uint32
	dur               uint16
}

// SendDigits plays digits (0-9, *, #, A-D; case-insensitive) to the peer,
// each for tone followed by gap of no digit; zero or negative values mean
// DefaultDigitDuration and DefaultDigitGap. tone is clamped to [40 ms,
// 8 s] and gap to [40 ms, 10 s], both rounded up to 20 ms frames. It
// returns at once; the shared clock plays the digits, after any requests
// queued before.
//
// When the peer negotiated telephone-event, every digit is sent as
// RFC 4733 events that replace the leg's audio packets while the digit
// plays (same SSRC, consecutive sequence numbers): the packets of one
// event share the RTP timestamp of its first packet, which has the marker
// bit (RFC 4733 §2.2); each one carries the duration so far, growing by
// one frame per packet (§2.5.1.2); the last one has the E bit and is sent
// three times (§2.5.1.4), in the first two frames of the gap. Volume is
// 10. Otherwise the digit is generated as a dual tone (dtmf.DefaultLevels)
// and added to the audio the leg sends.
//
// done, when not nil, is called exactly once on a goroutine of its own:
// with nil after the last digit and its gap were played, with
// ErrInvalidDigit (nothing is played), or with ErrClosed when the leg is
// or gets closed first. Digits advance in real time even while the
// negotiated direction forbids sending; they do not advance while the leg
// is not started or not in a mixer.
func (l *Leg) SendDigits(digits string, tone, gap time.Duration, done func(error)) {
	norm := strings.ToUpper(digits)
	for i := range len(norm) {
		if !dtmf.ValidDigit(norm[i]) {
			finishDigits(done, ErrInvalidDigit)
			return
		}
	}
	r := &digitRequest{
		digits:     norm,
		toneFrames: frames(tone, DefaultDigitDuration, minDigitDuration, maxDigitDuration),
		gapFrames:  frames(gap, DefaultDigitGap, minDigitGap, maxDigitGap),
		done:       done,
	}
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		finishDigits(done, ErrClosed)
		return
	}
	if norm == "" {
		l.mu.Unlock()
		finishDigits(done, nil)
		return
	}
	l.sendQ = append(l.sendQ, r)
	l.mu.Unlock()
}

// frames converts d (def when not positive) clamped to [lo, hi] to whole
// frames, rounding up.
func frames(d, def, lo, hi time.Duration) int {
	if d <= 0 {
		d = def
	}
	d = min(max(d, lo), hi)
	return int((d + FrameDuration - 1) / FrameDuration)
}

func finishDigits(done func(error), err error) {
	if done != nil {
		go done(err)
	}
}

// completeDigits removes the finished request r from the queue and
// reports it, unless Close already took it.
func (l *Leg) completeDigits(r *digitRequest) {
	l.mu.Lock()
	found := len(l.sendQ) > 0 && l.sendQ[0] == r
	if found {
		n := copy(l.sendQ, l.sendQ[1:])
		l.sendQ[n] = nil
		l.sendQ = l.sendQ[:n]
	}
	l.mu.Unlock()
	if found {
		finishDigits(r.done, nil)
	}
}

// failDigits reports every queued request as failed with err.
func (l *Leg) failDigits(err error) {
	l.mu.Lock()
	q := l.sendQ
	l.sendQ = nil
	l.mu.Unlock()
	for _, r := range q {
		finishDigits(r.done, err)
	}
}

// nextDigitsLocked starts the first queued request if none is playing.
// l.mu must be held; called on the clock goroutine.
func (l *Leg) nextDigitsLocked() {
	if l.ds.req == nil && len(l.sendQ) > 0 {
		l.ds = digitSender{req: l.sendQ[0]}
	}
}

// digitTick plays one frame of the current digit, if any: it adds the
// in-band tone to out, or returns the telephone-event packet to send
// instead of out. ts is the RTP timestamp of this frame. It does not
// allocate.
func (l *Leg) digitTick(out *[FrameSamples]int16, neg *negotiated, ts uint32) (ev eventPacket) {
	ds := &l.ds
	r := ds.req
	if r == nil {
		return ev
	}
	if ds.frame == 0 {
		c := r.digits[ds.idx]
		ds.event = neg != nil && neg.txEventPT >= 0
		ds.code = uint8(strings.IndexByte(dtmfDigits, c))
		ds.ts = ts
		ds.tone = dtmf.Tone{}
		if !ds.event {
			ds.tone, _ = dtmf.NewTone(c, r.toneFrames*FrameSamples, dtmf.DefaultLevels)
		}
	}
	switch f := ds.frame; {
	case f < r.toneFrames && ds.event:
		// The duration runs from the event's timestamp to the end of this
		// frame; computed from timestamps, it includes frames the clock
		// skipped.
		ds.dur = uint16(min(ts+FrameSamples-ds.ts, 0xFFFF))
		ev = eventPacket{send: true, marker: f == 0, end: f == r.toneFrames-1, code: ds.code, ts: ds.ts, dur: ds.dur}
	case f < r.toneFrames:
		ds.tone.Add(out[:])
	case ds.event && f < r.toneFrames+eventEndCopies-1:
		ev = eventPacket{send: true, end: true, code: ds.code, ts: ds.ts, dur: ds.dur}
	}
	if ds.frame++; ds.frame == r.toneFrames+r.gapFrames {
		ds.frame = 0
		if ds.idx++; ds.idx == len(r.digits) {
			ds.req = nil
			l.completeDigits(r)
		}
	}
	return ev
}

// putEvent writes an RFC 4733 §2.3 payload: event, E bit, volume, duration.
func putEvent(b []byte, ev eventPacket) {
	_ = b[3]
	b[0] = ev.code
	b[1] = eventVolume
	if ev.end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], ev.dur)
}
