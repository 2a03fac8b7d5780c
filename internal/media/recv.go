package media

import (
	"errors"

	"net"
	"net/netip"

	"github.com/switchboard-oss/switchboard/internal/media/g722"
)

// Receive buffer sizing. The buffer is a FIFO of decoded samples, so any
// packetisation time works; rxMaxFill bounds the added latency: when more
// is queued (bursts, or a peer clock faster than ours) the oldest samples
// are dropped.
const (
	rxRingSize = 8 * FrameSamples
	rxMaxFill  = 3 * FrameSamples
)

// maxMisorder is how far back (in sequence numbers) an audio packet counts
// as late rather than as a sequence restart (RFC 3550 Appendix A.1).
const maxMisorder = 100

// errNoPacket is recvNow's answer when no datagram is waiting.
var errNoPacket = errors.New("media: no packet waiting")

// maxDrain bounds the datagrams one leg takes from its socket per tick, so
// that a flood aimed at one port cannot stall the clock for every call; the
// kernel drops what does not fit in the socket buffer. A well-behaved peer
// sends one packet per 20 ms.
const maxDrain = 16

// readerState is the receive state of a leg, guarded by Leg.rxMu.
type readerState struct {
	pcm     [FrameSamples]int16 // decoded audio, one frame's worth at a time
	seqInit bool
	ssrc    uint32
	maxSeq  uint16
	dtmf    dtmfReceiver
	inband  inbandState
	g722    g722.NarrowDecoder
	recv    recvState
}

// drain reads every datagram waiting on the leg's socket, without
// blocking, and handles each one. The clock calls it once per tick for
// every started leg, before mixing, so a leg needs no goroutine of its own
// to receive, and no goroutine is woken per packet. rb is the calling
// worker's buffers, lent to the leg for the call.
func (l *Leg) drain(rb *rxBatch) {
	if !l.started.Load() || l.closed.Load() {
		return
	}
	l.rxMu.Lock()
	defer l.rxMu.Unlock()
	for read := 0; read < maxDrain; {
		n, err := l.recvBatch(rb)
		if err != nil {
			if !errors.Is(err, errNoPacket) && !l.closed.Load() && !errors.Is(err, net.ErrClosed) {
				l.stats.recvErrors.Add(1)
			}
			return
		}
		for i := range n {
			pkt, from := rb.packet(i)
			if len(pkt) > maxPacketSize {
				l.stats.malformed.Add(1)
				continue
			}
			l.handlePacket(pkt, from)
		}
		read += n
		if n < len(rb.bufs) {
			return // the socket had no more
		}
	}
}

// handlePacket processes one received datagram, with rxMu held. It must not
// allocate.
func (l *Leg) handlePacket(pkt []byte, from netip.AddrPort) {
	h, payload, err := parseRTP(pkt)
	if err != nil {
		l.stats.malformed.Add(1)
		return
	}
	neg := l.neg.Load()
	if neg == nil || neg.rx[h.payloadType] == kindNone {
		l.stats.unexpectedPT.Add(1)
		return
	}
	kind := neg.rx[h.payloadType]
	l.stats.packetsIn.Add(1)
	l.stats.bytesIn.Add(uint64(len(pkt)))
	l.lastRx.Store(l.e.now())
	if l.inactiveFired.Load() {
		l.inactiveFired.Store(false) // re-arm the inactivity check
	}
	if !l.latched.Load() {
		l.latch(from)
	}
	if kind == kindEvent {
		l.receiveEvent(h, payload)
		return
	}
	l.receiveAudio(h, payload, kind, neg)
}

// latch implements symmetric RTP (RFC 4961; also known as "comedia"):
// after the first valid packet we send to where the peer sends from, which
// traverses NATs that the SDP address does not account for.
func (l *Leg) latch(from netip.AddrPort) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	l.mu.Lock()
	if l.latched.Load() {
		l.mu.Unlock()
		return
	}
	old := l.txAddr
	l.txAddr = from
	l.latched.Store(true)
	l.mu.Unlock()
	if old != from {
		l.log.Debug("rtp latched to peer source address", "sdp_addr", old, "addr", from)
	}
}

func (l *Leg) receiveAudio(h rtpHeader, payload []byte, kind payloadKind, neg *negotiated) {
	rd := &l.rd
	if rd.seqInit && h.ssrc == rd.ssrc {
		d := int16(h.seq - rd.maxSeq)
		if d <= 0 && d > -maxMisorder {
			l.stats.late.Add(1) // duplicate, or arrived after newer audio was queued
			return
		}
		rd.maxSeq = h.seq // newer, or a large jump: the sender restarted
	} else {
		rd.seqInit, rd.ssrc, rd.maxSeq = true, h.ssrc, h.seq
	}
	// Every codec here gives one 8 kHz sample per payload byte, so a
	// frame-sized buffer decodes any packet in frame-sized pieces.
	dropped := 0
	for off := 0; off < len(payload); off += FrameSamples {
		n := rd.decodeAudio(kind, rd.pcm[:], payload[off:min(off+FrameSamples, len(payload))])
		part := h
		part.timestamp += uint32(off)
		l.detectInband(part, rd.pcm[:n], neg)
		dropped += l.ring.write(rd.pcm[:n])
	}
	if dropped > 0 {
		l.stats.overflow.Add(uint64(dropped))
	}
}

func (l *Leg) receiveEvent(h rtpHeader, payload []byte) {
	rep, err := l.rd.dtmf.receive(h.ssrc, h.timestamp, payload)
	if err != nil {
		l.stats.malformed.Add(1)
		return
	}
	if rep.onset {
		l.stats.dtmf.Add(1)
		l.e.notify(l, rep.event(), false)
	}
	if rep.end {
		l.e.notify(l, rep.event(), true)
	}
}

// pullFrame moves one frame from the receive buffer into dst. It returns
// false, leaving dst untouched, when less than a frame is buffered.
func (l *Leg) pullFrame(dst *[FrameSamples]int16) bool {
	l.rxMu.Lock()
	ok := l.ring.read(dst[:])
	l.rxMu.Unlock()
	return ok
}

// pcmRing is a fixed-size FIFO of samples.
type pcmRing struct {
	buf  [rxRingSize]int16
	r, n int // read index and fill
}

// write appends s, dropping the oldest samples beyond rxMaxFill, and
// returns how many samples were dropped.
func (q *pcmRing) write(s []int16) (dropped int) {
	if len(s) > rxMaxFill {
		dropped = len(s) - rxMaxFill
		s = s[dropped:]
	}
	if over := q.n + len(s) - rxMaxFill; over > 0 {
		q.r = (q.r + over) % rxRingSize
		q.n -= over
		dropped += over
	}
	w := (q.r + q.n) % rxRingSize
	c := copy(q.buf[w:], s)
	copy(q.buf[:], s[c:])
	q.n += len(s)
	return dropped
}

// read fills dst if enough samples are buffered.
func (q *pcmRing) read(dst []int16) bool {
	if q.n < len(dst) {
		return false
	}
	c := copy(dst, q.buf[q.r:])
	copy(dst[c:], q.buf[:])
	q.r = (q.r + len(dst)) % rxRingSize
	q.n -= len(dst)
	return true
}

// reset empties the buffer.
func (q *pcmRing) reset() { q.r, q.n = 0, 0 }
