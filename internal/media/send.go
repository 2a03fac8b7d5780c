package media

import (
	"net/netip"

	"github.com/switchboard-oss/switchboard/internal/media/g722"
)

// txState is the RTP send state of a leg, owned by the clock goroutine.
type txState struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	sending bool // a packet was sent on the previous tick (else the next gets the marker bit)
	warned  bool // a send error was logged
	buf     [rtpHeaderLen + FrameSamples]byte
	g722    g722.NarrowEncoder
	platformSender
}

// sendFrame sends one RTP packet to the current destination: the
// telephone-event ev when it is to be sent and the peer accepts events,
// else pcm encoded with the negotiated codec. Nothing is sent when the
// negotiated direction or the lack of a destination forbids it. The RTP
// timestamp advances by one frame either way (the caller adds frames the
// clock skipped), so it always reflects the sampling instant (RFC 3550
// §5.1). It never blocks.
func (l *Leg) sendFrame(pcm *[FrameSamples]int16, ev eventPacket, neg *negotiated, to netip.AddrPort) {
	tx := &l.tx
	if neg == nil || !neg.localDir.Sends() || !to.IsValid() {
		tx.ts += FrameSamples
		tx.sending = false
		return
	}
	h := rtpHeader{
		// RFC 3551 §4.1: the marker bit flags the first packet of a talkspurt.
		marker:      !tx.sending,
		payloadType: neg.tx.pt,
		seq:         tx.seq,
		timestamp:   tx.ts,
		ssrc:        tx.ssrc,
	}
	n := rtpHeaderLen + FrameSamples
	if ev.send && neg.txEventPT >= 0 {
		// RFC 4733 §2.2: the marker bit starts an event, whose packets
		// all carry the timestamp of its first one.
		h.marker, h.payloadType, h.timestamp = ev.marker, uint8(neg.txEventPT), ev.ts
		putEvent(tx.buf[rtpHeaderLen:], ev)
		n = rtpHeaderLen + 4
	} else {
		tx.encodeAudio(neg.tx.enc, tx.buf[rtpHeaderLen:], pcm[:])
	}
	putRTPHeader(tx.buf[:], h)
	tx.seq++
	tx.ts += FrameSamples
	tx.sending = true
	if err := l.writePacket(tx.buf[:n], to); err != nil {
		l.stats.sendErrors.Add(1)
		if !tx.warned {
			tx.warned = true
			l.log.Warn("rtp send failed; further failures are only counted", "addr", to, "err", err)
		}
		return
	}
	l.stats.packetsOut.Add(1)
	l.stats.bytesOut.Add(uint64(n))
}
