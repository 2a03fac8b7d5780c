package media

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestLoopback drives one leg in a mixer from two test sockets: sdpPeer is
// the address in the offer, mediaPeer is where the "real" peer sends from
// (as behind a NAT).
func TestLoopback(t *testing.T) {
	eng := runEngine(t, testConfig())
	h := &recHandler{}
	leg, err := eng.NewLeg(h)
	if err != nil {
		t.Fatal(err)
	}
	sdpPeer, mediaPeer := newPeer(t), newPeer(t)
	if _, err := leg.Answer(offerSDP(sdpPeer.port(), "0 101",
		"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv")); err != nil {
		t.Fatal(err)
	}
	if c := leg.Codec(); c.Name != "PCMU" || c.PayloadType != 0 {
		t.Fatalf("codec = %+v", c)
	}

	var tapMu sync.Mutex
	var tapped [][]int16
	leg.SetTap(func(frame []int16) {
		tapMu.Lock()
		tapped = append(tapped, append([]int16(nil), frame...))
		tapMu.Unlock()
	})
	call := eng.NewMixer()
	t.Cleanup(call.Close)
	leg.Start()
	if err := call.Add(leg); err != nil {
		t.Fatal(err)
	}
	legPort := leg.LocalPort()

	t.Run("silence to SDP address at frame cadence", func(t *testing.T) {
		waitFor(t, "10 packets at the SDP address", func() bool { return sdpPeer.count() >= 10 })
		pkts := sdpPeer.packets()
		silence := bytes.Repeat([]byte{0xFF}, FrameSamples)
		for i, p := range pkts {
			if p.PayloadType != 0 || !bytes.Equal(p.Payload, silence) {
				t.Fatalf("packet %d: pt %d payload %x, want PCMU silence", i, p.PayloadType, p.Payload)
			}
			if i == 0 {
				if !p.Marker {
					t.Errorf("first packet has no marker bit")
				}
				continue
			}
			prev := pkts[i-1]
			if p.SequenceNumber != prev.SequenceNumber+1 || p.Timestamp != prev.Timestamp+FrameSamples || p.SSRC != prev.SSRC {
				t.Fatalf("packet %d: seq %d ts %d ssrc %x after seq %d ts %d ssrc %x",
					i, p.SequenceNumber, p.Timestamp, p.SSRC, prev.SequenceNumber, prev.Timestamp, prev.SSRC)
			}
			if p.Marker {
				t.Errorf("packet %d has the marker bit", i)
			}
		}
	})

	t.Run("garbage is counted and ignored", func(t *testing.T) {
		garbage := [][]byte{
			{},
			{0x80, 0x00, 0x01},                       // short
			bytes.Repeat([]byte{0x41}, 40),           // version 1
			rtpPacket(96, 1, 1, 1, false, []byte{1}), // payload type not negotiated
			{0x80, 0xC8, 0x00, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, // RTCP SR
			{0xB0, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 1, 0xFF},                          // truncated extension, padding
		}
		for _, g := range garbage {
			mediaPeer.send(legPort, g)
		}
		waitFor(t, "garbage accounted", func() bool {
			s := leg.Stats()
			return s.Malformed+s.UnexpectedPT >= uint64(len(garbage)-1) // the empty datagram may not arrive
		})
		if s := leg.Stats(); s.Latched || s.PacketsIn != 0 || s.UnexpectedPT < 2 {
			t.Fatalf("stats after garbage = %+v", s)
		}
		n := sdpPeer.count()
		waitFor(t, "leg keeps sending", func() bool { return sdpPeer.count() >= n+5 })
	})

	t.Run("latches to the media source and decodes audio", func(t *testing.T) {
		st := mediaPeer.stream(legPort, 0, 1000, 0xABCD)
		waitFor(t, "packets at the latched address", func() bool { return mediaPeer.count() >= 5 })
		s := leg.Stats()
		want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(mediaPeer.port()))
		if !s.Latched || s.RemoteAddr != want {
			t.Fatalf("stats = %+v, want latched to %v", s, want)
		}
		before, m := sdpPeer.count(), mediaPeer.count()
		waitFor(t, "10 more packets at the latched address", func() bool { return mediaPeer.count() >= m+10 })
		if after := sdpPeer.count(); after > before+1 {
			t.Errorf("SDP address still receives after latching: %d -> %d", before, after)
		}
		// The tap sees the decoded 1 kHz tone.
		waitFor(t, "1 kHz tone at the tap", func() bool {
			tapMu.Lock()
			defer tapMu.Unlock()
			for _, f := range tapped {
				if toneAmplitude(f, 1000) > 4000 && toneAmplitude(f, 1500) < 500 {
					return true
				}
			}
			return false
		})
		st.Stop()
		// A single leg hears nothing of itself: the echo is silence.
		for _, p := range mediaPeer.packets() {
			if !bytes.Equal(p.Payload, bytes.Repeat([]byte{0xFF}, FrameSamples)) {
				t.Fatalf("leg hears its own audio: %x", p.Payload)
			}
		}
	})

	t.Run("RFC 4733 digits reported exactly once", func(t *testing.T) {
		const ssrc, ssrc2 = 0xABCD, 0x5555
		seq := uint16(65530) // wraps during the test
		send := func(ssrc uint32, ts uint32, event uint8, end bool, dur uint16) {
			mediaPeer.send(legPort, rtpPacket(101, seq, ts, ssrc, dur == 0, eventPayload(event, end, dur)))
			seq++
		}
		endTriple := func(ssrc, ts uint32, event uint8, dur uint16) {
			for range 3 {
				send(ssrc, ts, event, true, dur)
			}
		}
		// '1': first packet with duration 0, updates, three end packets.
		for _, d := range []uint16{0, 160, 320, 480} {
			send(ssrc, 1000, 1, false, d)
		}
		endTriple(ssrc, 1000, 1, 640)
		// '2': ordinary, with a retransmitted update.
		send(ssrc, 2000, 2, false, 160)
		send(ssrc, 2000, 2, false, 160)
		send(ssrc, 2000, 2, false, 320)
		endTriple(ssrc, 2000, 2, 400)
		// '#': every packet but the end packets lost.
		endTriple(ssrc, 3000, 11, 800)
		// A late retransmission of the end of '1' is not a new digit.
		send(ssrc, 1000, 1, true, 640)
		// '2' again: same digit, new event.
		send(ssrc, 4000, 2, false, 160)
		endTriple(ssrc, 4000, 2, 320)
		// '5' from a new SSRC that happens to reuse the timestamp.
		send(ssrc2, 4000, 5, false, 0)
		endTriple(ssrc2, 4000, 5, 480)
		// Hook flash (event 16) and a truncated payload are ignored.
		send(ssrc2, 5000, 16, false, 160)
		mediaPeer.send(legPort, rtpPacket(101, seq, 5500, ssrc2, false, []byte{1, 2}))
		seq++
		// Sentinel 'D'.
		send(ssrc2, 6000, 15, false, 0)
		endTriple(ssrc2, 6000, 15, 160)

		waitFor(t, "sentinel digit end", func() bool {
			_, ends := h.digits()
			return len(ends) > 0 && ends[len(ends)-1] == 'D'
		})
		onsets, ends := h.digits()
		if onsets != "12#25D" || ends != "12#25D" {
			t.Fatalf("onsets %q ends %q, want %q", onsets, ends, "12#25D")
		}
		h.mu.Lock()
		if h.onsets[0].Duration != 0 || h.ends[0].Duration != 80e6 || h.ends[2].Duration != 100e6 {
			t.Errorf("durations: onset %v, ends %v", h.onsets[0].Duration, h.ends)
		}
		h.mu.Unlock()
		if s := leg.Stats(); s.DTMF != 6 {
			t.Errorf("stats DTMF = %d, want 6", s.DTMF)
		}
	})

	if err := leg.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := leg.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestInactivity(t *testing.T) {
	cfg := testConfig()
	cfg.InactivityTimeout = 100e6 // 100 ms
	eng := runEngine(t, cfg)
	call := eng.NewMixer()
	t.Cleanup(call.Close)

	h := &recHandler{}
	leg, err := eng.NewLeg(h)
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t)
	if _, err := leg.Answer(offerSDP(p.port(), "0")); err != nil {
		t.Fatal(err)
	}
	// A held leg (the peer does not send) must not time out.
	hHeld := &recHandler{}
	held, err := eng.NewLeg(hHeld)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Answer(offerSDP(newPeer(t).port(), "0", "a=recvonly")); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Leg{leg, held} {
		l.Start()
		if err := call.Add(l); err != nil {
			t.Fatal(err)
		}
	}

	for i := range 3 {
		p.send(leg.LocalPort(), rtpPacket(0, uint16(i), uint32(i*FrameSamples), 1, false, make([]byte, FrameSamples)))
	}
	waitFor(t, "inactivity callback", func() bool { return h.inactive.Load() == 1 })
	// Many more ticks later it has still fired only once.
	n := p.count()
	waitFor(t, "30 more ticks", func() bool { return p.count() >= n+30 })
	if got := h.inactive.Load(); got != 1 {
		t.Fatalf("Inactive called %d times, want 1", got)
	}
	if got := hHeld.inactive.Load(); got != 0 {
		t.Fatalf("held leg: Inactive called %d times, want 0", got)
	}
	// Media resumes, then stops again: the check is re-armed.
	p.send(leg.LocalPort(), rtpPacket(0, 10, 10*FrameSamples, 1, false, make([]byte, FrameSamples)))
	waitFor(t, "second inactivity callback", func() bool { return h.inactive.Load() == 2 })
}

// TestOfferAnswerBetweenLegs connects two legs of two engines through
// their own offer and answer: a tone played into one call is heard on the
// other side's tap, and both sides latch to each other.
func TestOfferAnswerBetweenLegs(t *testing.T) {
	engA, engB := runEngine(t, testConfig()), runEngine(t, testConfig())
	a, err := engA.NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := engB.NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	offer, err := a.Offer()
	if err != nil {
		t.Fatal(err)
	}
	answer, err := b.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetRemoteAnswer(answer); err != nil {
		t.Fatal(err)
	}
	if a.Codec().Name != "PCMU" || b.Codec().Name != "PCMU" || b.neg.Load().txEventPT != 101 {
		t.Fatalf("codecs %v / %v", a.Codec(), b.Codec())
	}
	heard := make(chan struct{})
	var once bool
	b.SetTap(func(frame []int16) {
		if !once && toneAmplitude(frame, 1000) > 4000 {
			once = true
			close(heard)
		}
	})
	callA, callB := engA.NewMixer(), engB.NewMixer()
	t.Cleanup(callA.Close)
	t.Cleanup(callB.Close)
	for _, x := range []struct {
		m *Mixer
		l *Leg
	}{{callA, a}, {callB, b}} {
		x.l.Start()
		if err := x.m.Add(x.l); err != nil {
			t.Fatal(err)
		}
	}
	callA.SetSource(&toneSource{freq: 1000})
	select {
	case <-heard:
	case <-time.After(waitTimeout):
		t.Fatal("tone not heard across the call")
	}
	waitFor(t, "both sides latched", func() bool { return a.Stats().Latched && b.Stats().Latched })
}

// toneSource plays an endless sine.
type toneSource struct {
	freq float64
	n    int
}

func (s *toneSource) ReadFrame(dst []int16) (int, bool) {
	copy(dst, tone(s.freq, 8000, s.n, len(dst)))
	s.n += len(dst)
	return len(dst), false
}

// TestIPv6Media checks the IPv6 send path (and its sockaddr) end to end.
func TestIPv6Media(t *testing.T) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer c.Close()
	eng := runEngine(t, Config{BindIP: "::1"})
	l, err := eng.NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	offer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\n", port)
	if _, err := l.Answer([]byte(offer)); err != nil {
		t.Fatal(err)
	}
	l.Start()
	call := eng.NewMixer()
	defer call.Close()
	if err := call.Add(l); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	c.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	h, payload, err := parseRTP(buf[:n])
	if err != nil || h.payloadType != 8 || !bytes.Equal(payload, bytes.Repeat([]byte{0xD5}, FrameSamples)) {
		t.Fatalf("got %+v %x %v, want PCMA silence", h, payload, err)
	}
}
