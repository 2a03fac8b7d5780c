package media

import (
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

// Leg is one RTP endpoint of a call: a UDP socket from the engine's pool,
// the codec negotiated through SDP, RTP send state and a small receive
// buffer. A leg does nothing until Start; it sends and mixes only while it
// is in a Mixer. All methods are safe for concurrent use.
type Leg struct {
	e    *Engine
	h    Handler
	endH DTMFEndHandler // h as a DTMFEndHandler, or nil
	log  *slog.Logger
	conn *net.UDPConn
	raw  syscall.RawConn
	port int

	started       atomic.Bool
	closed        atomic.Bool
	muted         atomic.Bool
	noInband      atomic.Bool // in-band DTMF detection switched off (SetInbandDTMF)
	latched       atomic.Bool
	inactiveFired atomic.Bool
	lastRx        atomic.Int64 // Engine.now() of the last valid RTP packet or (re)start
	neg           atomic.Pointer[negotiated]

	mu           sync.Mutex     // guards the fields below
	txAddr       netip.AddrPort // destination: from SDP, then latched
	offerPending bool
	sessID       uint64
	sessVer      uint64
	source       *sourceBox
	tap          func(frame []int16)
	sendQ        []*digitRequest // SendDigits requests; the first is playing

	mixer *Mixer // guarded by e.mu

	rxMu sync.Mutex  // guards ring and rd
	ring pcmRing     // received audio waiting for the mixer
	rd   readerState // receive state (drain)

	// Send and mix state, owned by whichever clock worker ticks the leg's
	// mixer (under the mixer's lock).
	tx  txState
	mix mixState
	ds  digitSender

	stats counters
}

// negotiated is the immutable result of an offer/answer exchange. A new
// one replaces the old on every renegotiation.
type negotiated struct {
	tx        format           // what we send
	txEventPT int              // telephone-event payload type the peer expects, -1 if none
	rx        [128]payloadKind // what we accept, by payload type
	remote    netip.AddrPort   // address from the remote SDP; invalid on hold
	remoteDir Direction        // the peer's direction
	localDir  Direction        // ours
}

// sourceBox wraps a FrameSource so that it can be compared by identity
// whatever the dynamic type of the source.
type sourceBox struct{ FrameSource }

type counters struct {
	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
	malformed, unexpectedPT, late, overflow  atomic.Uint64
	sendErrors, recvErrors, dtmf             atomic.Uint64
}

// Stats is a snapshot of a leg's counters.
type Stats struct {
	PacketsIn    uint64 // valid RTP packets received (audio and telephone-event)
	BytesIn      uint64 // UDP payload bytes of those packets
	PacketsOut   uint64 // RTP packets sent
	BytesOut     uint64 // UDP payload bytes sent
	Malformed    uint64 // datagrams that are not valid RTP, or bad telephone-event payloads
	UnexpectedPT uint64 // RTP packets with a payload type that was not negotiated
	Late         uint64 // duplicate or out-of-order audio packets dropped
	Overflow     uint64 // received samples dropped because the receive buffer was full
	SendErrors   uint64 // sends that failed or would have blocked
	RecvErrors   uint64 // socket reads that failed (other than "nothing waiting")
	DTMF         uint64 // telephone-events reported to the Handler
	// RemoteAddr is where the leg sends: the SDP address until the peer's
	// first valid RTP packet, then that packet's source (Latched).
	RemoteAddr netip.AddrPort
	Latched    bool
}

// NewLeg allocates an RTP socket from the pool and returns an idle leg. h
// receives the leg's events; it may be nil. It returns ErrNoPorts when the
// port range is exhausted and ErrClosed after Run returned.
func (e *Engine) NewLeg(h Handler) (*Leg, error) {
	if h == nil {
		h = nopHandler{}
	}
	conn, port, err := e.pool.acquire(e.bind)
	if err != nil {
		return nil, err
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		e.pool.release(port)
		return nil, err
	}
	l := &Leg{
		e:       e,
		h:       h,
		log:     e.log.With("rtp_port", port),
		conn:    conn,
		raw:     raw,
		port:    port,
		sessID:  rand.Uint64() >> 2, // fits in a signed 64-bit integer (RFC 4566 §5.2)
		sessVer: 1,
	}
	l.endH, _ = h.(DTMFEndHandler)
	// RFC 3550 §5.1: random initial sequence number, timestamp and SSRC.
	l.tx.ssrc = rand.Uint32()
	l.tx.seq = uint16(rand.Uint32())
	l.tx.ts = rand.Uint32()
	l.initSender()
	l.initReceiver()
	l.rd.inband.emit = l.inbandEvent

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		conn.Close()
		e.pool.release(port)
		return nil, ErrClosed
	}
	e.legs[l] = struct{}{}
	e.mu.Unlock()
	l.log.Debug("rtp leg created")
	return l, nil
}

// LocalPort returns the UDP port the leg receives RTP on.
func (l *Leg) LocalPort() int { return l.port }

// Codec returns the negotiated codec; the zero Codec before negotiation.
func (l *Leg) Codec() Codec {
	n := l.neg.Load()
	if n == nil {
		return Codec{}
	}
	return Codec{Name: n.tx.enc.String(), PayloadType: n.tx.pt, ClockRate: InternalRate}
}

// RemoteDirection returns the direction of the peer's last SDP, so that
// the SIP layer can see hold (sendonly or inactive). A connection address
// of 0.0.0.0 (RFC 3264 §8.4) is reported as sendonly or inactive.
func (l *Leg) RemoteDirection() Direction {
	n := l.neg.Load()
	if n == nil {
		return DirectionUnknown
	}
	return n.remoteDir
}

// Start starts receiving: from the next tick on the clock reads the leg's
// socket, and a leg in a mixer takes part in the mixer's ticks and is
// watched for inactivity. Start is idempotent.
func (l *Leg) Start() {
	if l.closed.Load() || !l.started.CompareAndSwap(false, true) {
		return
	}
	l.lastRx.Store(l.e.now())
}

// SetMuted controls whether other legs of the mixer hear this leg.
func (l *Leg) SetMuted(muted bool) { l.muted.Store(muted) }

// SetInbandDTMF switches in-band DTMF detection (used when telephone-event
// was not negotiated) on or off; it is on for a new leg. Detection costs
// a few microseconds per packet, so an owner that knows nobody listens
// for the peer's digits can switch it off.
func (l *Leg) SetInbandDTMF(on bool) { l.noInband.Store(!on) }

// SetSource attaches a source heard only by this leg, replacing any
// previous one; nil detaches. See FrameSource.
func (l *Leg) SetSource(src FrameSource) {
	var b *sourceBox
	if src != nil {
		b = &sourceBox{src}
	}
	l.mu.Lock()
	l.source = b
	l.mu.Unlock()
}

// SetTap registers fn to receive the leg's decoded audio, one frame of
// FrameSamples samples per clock tick while the leg is started and in a
// mixer; the frame is silence when nothing was received. This is the hook
// for detectors, recorders and streamers. fn runs on the shared clock
// goroutine: it must copy what it needs and return at once, must not
// modify or retain frame, and must not call back into the engine. nil
// removes the tap.
func (l *Leg) SetTap(fn func(frame []int16)) {
	l.mu.Lock()
	l.tap = fn
	l.mu.Unlock()
}

// Stats returns a snapshot of the leg's counters.
func (l *Leg) Stats() Stats {
	l.mu.Lock()
	addr := l.txAddr
	l.mu.Unlock()
	c := &l.stats
	return Stats{
		PacketsIn:    c.packetsIn.Load(),
		BytesIn:      c.bytesIn.Load(),
		PacketsOut:   c.packetsOut.Load(),
		BytesOut:     c.bytesOut.Load(),
		Malformed:    c.malformed.Load(),
		UnexpectedPT: c.unexpectedPT.Load(),
		Late:         c.late.Load(),
		Overflow:     c.overflow.Load(),
		SendErrors:   c.sendErrors.Load(),
		RecvErrors:   c.recvErrors.Load(),
		DTMF:         c.dtmf.Load(),
		RemoteAddr:   addr,
		Latched:      l.latched.Load(),
	}
}

// Close stops the leg, removes it from its mixer, closes its socket and
// returns the port to the pool. Handler calls already queued for the leg
// are dropped; one in progress may still complete. Close is
// idempotent and may be called from a Handler.
func (l *Leg) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	e := l.e
	e.mu.Lock()
	delete(e.legs, l)
	if m := l.mixer; m != nil {
		m.mu.Lock()
		m.removeLocked(l)
		m.mu.Unlock()
		l.mixer = nil
	}
	e.mu.Unlock()
	l.failDigits(ErrClosed)
	// net.UDPConn.Close returns once the descriptor is closed, so the port
	// can be handed out again immediately.
	err := l.conn.Close()
	e.pool.release(l.port)
	l.log.Debug("rtp leg closed")
	return err
}

// clearSource detaches b if it is still the leg's source.
func (l *Leg) clearSource(b *sourceBox) {
	l.mu.Lock()
	if l.source == b {
		l.source = nil
	}
	l.mu.Unlock()
}
