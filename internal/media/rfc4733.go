package media

import (
	"encoding/binary"
	"errors"
	"time"
)

// DTMFEvent is a digit received on a leg: an RFC 4733 telephone-event or,
// when telephone-event was not negotiated, DTMF tones in the audio.
type DTMFEvent struct {
	// Digit is one of '0'-'9', '*', '#', 'A'-'D'.
	Digit byte
	// Duration is the event duration known when the event is reported: for
	// Handler.DTMF the duration in the first packet seen (often 0), or for
	// tones the time it took to recognise them (about 33 ms); for
	// DTMFEndHandler.DTMFEnd the final duration.
	Duration time.Duration
}

// dtmfDigits maps RFC 4733 §3.2 event codes 0-15 to digits.
const dtmfDigits = "0123456789*#ABCD"

// telephoneEventRate is the only telephone-event clock rate we negotiate.
const telephoneEventRate = 8000

// maxEventReorder bounds how far back (in timestamp units, 5 s at 8 kHz) a
// packet is treated as a late packet of an earlier event rather than the
// start of a new one; beyond that we assume the sender reset its timestamps.
const maxEventReorder = 5 * telephoneEventRate

var errEventShort = errors.New("rfc4733: payload shorter than 4 bytes")

// dtmfReceiver turns a stream of RFC 4733 telephone-event payloads into
// exactly one onset (and at most one end) per event.
//
// Payload format (RFC 4733 §2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// An event is identified by the SSRC and the RTP timestamp of its packets
// (RFC 4733 §2.5.1.2): every packet of one event, including the first with
// duration 0, the updates and the (usually three, §2.5.1.4) end packets
// carries the same timestamp. Sequence numbers are not used, so their
// wrap-around is irrelevant; timestamps are compared with serial-number
// arithmetic so their wrap-around is handled too.
type dtmfReceiver struct {
	active bool   // an event has been seen
	ssrc   uint32 // of the current event
	ts     uint32 // RTP timestamp of the current event (segment)
	event  uint8
	segDur uint32 // longest duration seen in the current segment
	prior  uint32 // duration of earlier segments of a long event
	ended  bool   // E bit seen for the current event
}

// dtmfReport says what a packet means for the application.
type dtmfReport struct {
	onset, end bool
	digit      byte
	duration   uint32 // timestamp units
}

func (r dtmfReport) event() DTMFEvent {
	return DTMFEvent{Digit: r.digit, Duration: time.Duration(r.duration) * time.Second / telephoneEventRate}
}

// receive processes one telephone-event payload.
func (r *dtmfReceiver) receive(ssrc, ts uint32, payload []byte) (dtmfReport, error) {
	if len(payload) < 4 {
		return dtmfReport{}, errEventShort
	}
	ev := payload[0]
	end := payload[1]&0x80 != 0
	dur := uint32(binary.BigEndian.Uint16(payload[2:]))
	if ev >= uint8(len(dtmfDigits)) {
		return dtmfReport{}, nil // not DTMF (e.g. 16 = hook flash): ignored
	}
	if r.active && ssrc == r.ssrc {
		d := int32(ts - r.ts)
		switch {
		case d == 0:
			if ev != r.event {
				return dtmfReport{}, nil // contradicts the event in progress
			}
			return r.update(dur, end), nil
		case d < 0 && d > -maxEventReorder:
			return dtmfReport{}, nil // late or retransmitted packet of an earlier event
		case d > 0 && ev == r.event && !r.ended && r.segDur >= 0xFFFF && uint32(d) <= r.segDur+maxEventReorder:
			// Next segment of a long-duration event (RFC 4733 §2.5.1.3):
			// the duration field saturated and the sender restarted it
			// with a new timestamp. Same event, not a new digit.
			r.prior += r.segDur
			r.ts, r.segDur = ts, 0
			return r.update(dur, end), nil
		}
	}
	// A new event: different SSRC (RFC 3550 §8.2 source change), newer
	// timestamp, or the first event ever seen.
	*r = dtmfReceiver{active: true, ssrc: ssrc, ts: ts, event: ev, segDur: dur, ended: end}
	return dtmfReport{onset: true, end: end, digit: dtmfDigits[ev], duration: dur}, nil
}

func (r *dtmfReceiver) update(dur uint32, end bool) dtmfReport {
	r.segDur = max(r.segDur, dur)
	if !end || r.ended {
		return dtmfReport{} // continuation or repeated end packet
	}
	r.ended = true
	return dtmfReport{end: true, digit: dtmfDigits[r.event], duration: r.prior + r.segDur}
}
