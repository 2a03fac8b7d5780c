package media

import "net/netip"

// txState is the RTP send state of a leg, owned by the clock goroutine.
type txState struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	sending bool // a packet was sent on the previous tick (else the next gets the marker bit)
	warned  bool // a send error was logged
	buf     [rtpHeaderLen + FrameSamples]byte
	platformSender
}

// sendFrame encodes pcm with the negotiated codec and sends one RTP packet
// to the current destination, unless the negotiated direction or the lack
// of a destination forbids sending. The RTP timestamp advances by one frame
// either way (plus skip frames the clock could not run), so it always
// reflects the sampling instant (RFC 3550 §5.1). It never blocks.
func (l *Leg) sendFrame(pcm *[FrameSamples]int16, neg *negotiated, to netip.AddrPort, skip uint32) {
	tx := &l.tx
	tx.ts += skip * FrameSamples
	if neg == nil || !neg.localDir.Sends() || !to.IsValid() {
		tx.ts += FrameSamples
		tx.sending = false
		return
	}
	putRTPHeader(tx.buf[:], rtpHeader{
		// RFC 3551 §4.1: the marker bit flags the first packet of a talkspurt.
		marker:      !tx.sending,
		payloadType: neg.tx.pt,
		seq:         tx.seq,
		timestamp:   tx.ts,
		ssrc:        tx.ssrc,
	})
	neg.tx.enc.encode(tx.buf[rtpHeaderLen:], pcm[:])
	tx.seq++
	tx.ts += FrameSamples
	tx.sending = true
	if err := l.writePacket(tx.buf[:], to); err != nil {
		l.stats.sendErrors.Add(1)
		if !tx.warned {
			tx.warned = true
			l.log.Warn("rtp send failed; further failures are only counted", "addr", to, "err", err)
		}
		return
	}
	l.stats.packetsOut.Add(1)
	l.stats.bytesOut.Add(uint64(len(tx.buf)))
}
