package media

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

// waitTimeout is a generous deadline for asynchronous conditions. Tests
// never assert how long something took, only that it happens eventually.
const waitTimeout = 10 * time.Second

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func testConfig() Config {
	return Config{BindIP: "127.0.0.1", AdvertiseIP: "127.0.0.1"}
}

// newEngine creates an engine that is not running.
func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := NewEngine(cfg, nil)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

// runEngine creates an engine and runs its clock until the test ends.
func runEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e := newEngine(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return e
}

// recHandler records leg events.
type recHandler struct {
	mu       sync.Mutex
	onsets   []DTMFEvent
	ends     []DTMFEvent
	inactive atomic.Int32
}

func (h *recHandler) DTMF(d DTMFEvent) {
	h.mu.Lock()
	h.onsets = append(h.onsets, d)
	h.mu.Unlock()
}

func (h *recHandler) DTMFEnd(d DTMFEvent) {
	h.mu.Lock()
	h.ends = append(h.ends, d)
	h.mu.Unlock()
}

func (h *recHandler) Inactive() { h.inactive.Add(1) }

func (h *recHandler) digits() (onsets, ends string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var a, b strings.Builder
	for _, d := range h.onsets {
		a.WriteByte(d.Digit)
	}
	for _, d := range h.ends {
		b.WriteByte(d.Digit)
	}
	return a.String(), b.String()
}

// peer is a remote RTP endpoint on an ephemeral loopback port.
type peer struct {
	t    testing.TB
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []*rtp.Packet // valid RTP received, in order
	srcs []netip.AddrPort
}

func newPeer(t testing.TB) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, conn: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			var pkt rtp.Packet
			if pkt.Unmarshal(append([]byte(nil), buf[:n]...)) != nil {
				continue
			}
			p.mu.Lock()
			p.pkts = append(p.pkts, &pkt)
			p.srcs = append(p.srcs, from)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return p
}

func (p *peer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *peer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pkts)
}

func (p *peer) packets() []*rtp.Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*rtp.Packet(nil), p.pkts...)
}

func (p *peer) send(to int, b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(to))); err != nil {
		p.t.Errorf("peer send: %v", err)
	}
}

// rtpPacket marshals an RTP packet with pion/rtp, an implementation
// independent of ours.
func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	b, err := (&rtp.Packet{Header: rtp.Header{
		Version: 2, Marker: marker, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc,
	}, Payload: payload}).Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// eventPayload builds an RFC 4733 payload (volume 10).
func eventPayload(event uint8, end bool, duration uint16) []byte {
	b := []byte{event, 10, byte(duration >> 8), byte(duration)}
	if end {
		b[1] |= 0x80
	}
	return b
}

// offerSDP is a typical SIP peer offer for port with the given m-line
// formats and extra media attribute lines.
func offerSDP(port int, formats string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=peer 42 1 IN IP4 127.0.0.1\r\ns=call\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n")
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", port, formats)
	for _, a := range extra {
		b.WriteString(a + "\r\n")
	}
	return []byte(b.String())
}

// tone generates a sine frame continuing from sample index start.
func tone(freq float64, amp float64, start, n int) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(start+i)/InternalRate))
	}
	return f
}

func encodeFrame(enc encoding, pcm []int16) []byte {
	b := make([]byte, len(pcm))
	enc.encodeG711(b, pcm)
	return b
}

func decodePayload(pt uint8, payload []byte) []int16 {
	s := make([]int16, len(payload))
	if pt == 8 {
		g711.DecodeAlawFrame(s, payload)
	} else {
		g711.DecodeUlawFrame(s, payload)
	}
	return s
}

// toneAmplitude estimates the amplitude of freq in samples with the
// Goertzel algorithm.
func toneAmplitude(samples []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / InternalRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(samples))
}

// streamer sends a continuous µ-law or A-law tone from a peer, paced by a
// ticker, until stopped.
type streamer struct {
	stop chan struct{}
	done chan struct{}
}

func (p *peer) stream(to int, pt uint8, freq float64, ssrc uint32) *streamer {
	s := &streamer{stop: make(chan struct{}), done: make(chan struct{})}
	enc := encPCMU
	if pt == 8 {
		enc = encPCMA
	}
	go func() {
		defer close(s.done)
		tk := time.NewTicker(FrameDuration)
		defer tk.Stop()
		seq, ts := uint16(100), uint32(5000)
		for n := 0; ; n++ {
			frame := encodeFrame(enc, tone(freq, 8000, n*FrameSamples, FrameSamples))
			p.send(to, rtpPacket(pt, seq, ts, ssrc, n == 0, frame))
			seq++
			ts += FrameSamples
			select {
			case <-s.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return s
}

func (s *streamer) Stop() { close(s.stop); <-s.done }
