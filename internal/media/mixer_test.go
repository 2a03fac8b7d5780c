package media

import (
	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestMixMinus bridges three legs, each fed a distinct tone, one of them
// over PCMA. Every peer must hear the two other tones and not its own.
func TestMixMinus(t *testing.T) {
	eng := runEngine(t, testConfig())
	call := eng.NewMixer()
	t.Cleanup(call.Close)

	type party struct {
		freq  float64
		pt    uint8
		peer  *peer
		leg   *Leg
		start int // index of the first packet after every tone flows
	}
	parties := []*party{{freq: 440, pt: 0}, {freq: 1000, pt: 8}, {freq: 1700, pt: 0}}
	for i, p := range parties {
		p.peer = newPeer(t)
		leg, err := eng.NewLeg(nil)
		if err != nil {
			t.Fatal(err)
		}
		p.leg = leg
		if _, err := leg.Answer(offerSDP(p.peer.port(), fmt.Sprint(p.pt))); err != nil {
			t.Fatal(err)
		}
		if got := leg.Codec().PayloadType; got != p.pt {
			t.Fatalf("party %d codec pt %d, want %d", i, got, p.pt)
		}
		leg.Start()
		if err := call.Add(leg); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range parties {
		st := p.peer.stream(p.leg.LocalPort(), p.pt, p.freq, uint32(1000+i))
		t.Cleanup(st.Stop)
	}
	// Wait until every leg has received audio, then collect 30 more frames.
	waitFor(t, "audio on every leg", func() bool {
		for _, p := range parties {
			if p.leg.Stats().PacketsIn < 3 {
				return false
			}
		}
		return true
	})
	for _, p := range parties {
		p.start = p.peer.count()
	}
	const frames = 30
	waitFor(t, "frames at every peer", func() bool {
		for _, p := range parties {
			if p.peer.count() < p.start+frames {
				return false
			}
		}
		return true
	})

	for i, p := range parties {
		var pcm []int16
		for _, pkt := range p.peer.packets()[p.start:] {
			if pkt.PayloadType != p.pt {
				t.Fatalf("party %d: received pt %d, want %d", i, pkt.PayloadType, p.pt)
			}
			pcm = append(pcm, decodePayload(pkt.PayloadType, pkt.Payload)...)
		}
		own := toneAmplitude(pcm, p.freq)
		for j, o := range parties {
			if j == i {
				continue
			}
			other := toneAmplitude(pcm, o.freq)
			// Each tone has amplitude 8000; frames may occasionally lack
			// one contributor (jitter), so require only half of it.
			if other < 4000 {
				t.Errorf("party %d hears %v Hz at amplitude %.0f, want ~8000", i, o.freq, other)
			}
			if own > other/100 {
				t.Errorf("party %d hears its own %v Hz tone at amplitude %.0f (others %.0f)", i, p.freq, own, other)
			}
		}
	}
}

// countingSource plays a constant level for frames ticks, then is done.
type countingSource struct {
	level  int16
	frames int32
	calls  atomic.Int32
}

func (s *countingSource) ReadFrame(dst []int16) (int, bool) {
	n := s.calls.Add(1)
	for i := range dst {
		dst[i] = s.level
	}
	return len(dst), n >= s.frames
}

// TestSources checks that a call source reaches every leg, a leg source only
// its leg, and that both are detached once done.
func TestSources(t *testing.T) {
	eng := runEngine(t, testConfig())
	call := eng.NewMixer()
	t.Cleanup(call.Close)
	peers := []*peer{newPeer(t), newPeer(t)}
	legs := make([]*Leg, 2)
	for i, p := range peers {
		l, err := eng.NewLeg(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Answer(offerSDP(p.port(), "0")); err != nil {
			t.Fatal(err)
		}
		l.Start()
		if err := call.Add(l); err != nil {
			t.Fatal(err)
		}
		legs[i] = l
	}
	voice := &countingSource{level: 1000, frames: 5}
	private := &countingSource{level: 3000, frames: 5}
	// Attach both within one tick (the clock holds call.mu while mixing).
	call.mu.Lock()
	call.source = &sourceBox{voice}
	legs[0].SetSource(private)
	call.mu.Unlock()

	n0, n1 := peers[0].count(), peers[1].count()
	waitFor(t, "sources to finish and 10 more ticks", func() bool {
		return peers[0].count() >= n0+20 && peers[1].count() >= n1+20
	})
	if v, p := voice.calls.Load(), private.calls.Load(); v != 5 || p != 5 {
		t.Fatalf("ReadFrame calls: call source %d, leg source %d, want 5 each", v, p)
	}
	levels := func(p *peer) map[int16]int {
		m := map[int16]int{}
		for _, pkt := range p.packets() {
			m[decodePayload(0, pkt.Payload)[0]]++
		}
		return m
	}
	// µ-law levels nearest to 1000 and 4000.
	l1000, l4000 := decodePayload(0, encodeFrame(encPCMU, []int16{1000}))[0], decodePayload(0, encodeFrame(encPCMU, []int16{4000}))[0]
	got0, got1 := levels(peers[0]), levels(peers[1])
	if got0[l4000] != 5 || got0[l1000] != 0 {
		t.Errorf("leg 0 levels %v, want 5 frames of %d", got0, l4000)
	}
	if got1[l1000] != 5 || got1[l4000] != 0 {
		t.Errorf("leg 1 levels %v, want 5 frames of %d", got1, l1000)
	}
	last := peers[1].packets()
	if !bytes.Equal(last[len(last)-1].Payload, bytes.Repeat([]byte{0xFF}, FrameSamples)) {
		t.Errorf("after the sources finished the leg does not get silence")
	}
}

// TestMuteAndRemove checks that a muted leg is not heard and that a removed
// leg stops sending.
func TestMuteAndRemove(t *testing.T) {
	eng := runEngine(t, testConfig())
	call := eng.NewMixer()
	t.Cleanup(call.Close)
	pa, pb := newPeer(t), newPeer(t)
	a, _ := eng.NewLeg(nil)
	b, _ := eng.NewLeg(nil)
	for _, x := range []struct {
		l *Leg
		p *peer
	}{{a, pa}, {b, pb}} {
		if _, err := x.l.Answer(offerSDP(x.p.port(), "0")); err != nil {
			t.Fatal(err)
		}
		x.l.Start()
		if err := call.Add(x.l); err != nil {
			t.Fatal(err)
		}
	}
	a.SetMuted(true)
	st := pa.stream(a.LocalPort(), 0, 1000, 7)
	defer st.Stop()
	waitFor(t, "a receives", func() bool { return a.Stats().PacketsIn >= 3 })
	n := pb.count()
	waitFor(t, "b gets 20 packets", func() bool { return pb.count() >= n+20 })
	for _, pkt := range pb.packets()[n:] {
		if !bytes.Equal(pkt.Payload, bytes.Repeat([]byte{0xFF}, FrameSamples)) {
			t.Fatalf("b hears muted a")
		}
	}
	a.SetMuted(false)
	waitFor(t, "b hears a after unmute", func() bool {
		pk := pb.packets()
		return toneAmplitude(decodePayload(0, pk[len(pk)-1].Payload), 1000) > 4000
	})

	call.Remove(b)
	call.Remove(b) // no-op
	n = pb.count()
	m := pa.count()
	waitFor(t, "20 more ticks", func() bool { return pa.count() >= m+20 })
	if got := pb.count(); got > n+1 {
		t.Errorf("removed leg still sends: %d -> %d", n, got)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := call.Add(b); err != ErrClosed {
		t.Errorf("Add(closed leg) = %v, want ErrClosed", err)
	}
}

// TestMoveBetweenMixers checks that Add moves a leg.
func TestMoveBetweenMixers(t *testing.T) {
	eng := newEngine(t, testConfig())
	m1, m2 := eng.NewMixer(), eng.NewMixer()
	l, err := eng.NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, m := range []*Mixer{m1, m2, m2} {
		if err := m.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	if len(m1.legs) != 0 || len(m2.legs) != 1 || l.mixer != m2 {
		t.Fatalf("m1 %d legs, m2 %d legs", len(m1.legs), len(m2.legs))
	}
	m2.Close()
	if !l.closed.Load() {
		t.Fatal("Mixer.Close did not close its leg")
	}
	if err := m2.Add(l); err != ErrClosed {
		t.Fatalf("Add to closed mixer = %v", err)
	}
	other := newEngine(t, testConfig())
	l2, err := other.NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if err := m1.Add(l2); err == nil {
		t.Fatal("Add accepted a leg of another engine")
	}
}

func TestSaturate(t *testing.T) {
	for _, tt := range []struct {
		in   int32
		want int16
	}{{0, 0}, {32767, 32767}, {32768, 32767}, {1 << 20, 32767}, {-32768, -32768}, {-32769, -32768}, {-1 << 20, -32768}} {
		if got := saturate(tt.in); got != tt.want {
			t.Errorf("saturate(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestFailingLegDoesNotDisturbOthers points one leg at a destination the
// kernel refuses (a socket bound to 127.0.0.1 cannot reach the TEST-NET
// address 192.0.2.1): its sends fail and are counted while the other leg
// keeps receiving every tick.
func TestFailingLegDoesNotDisturbOthers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("relies on Linux refusing to route from a loopback-bound socket")
	}
	eng := runEngine(t, testConfig())
	call := eng.NewMixer()
	t.Cleanup(call.Close)
	good, bad := newPeer(t), newPeer(t)
	legs := make([]*Leg, 2)
	for i, p := range []*peer{good, bad} {
		l, err := eng.NewLeg(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Answer(offerSDP(p.port(), "0")); err != nil {
			t.Fatal(err)
		}
		legs[i] = l
	}
	legs[1].mu.Lock()
	legs[1].txAddr = netip.MustParseAddrPort("192.0.2.1:9")
	legs[1].mu.Unlock()
	for _, l := range legs {
		l.Start()
		if err := call.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "send errors on the bad leg and packets on the good one", func() bool {
		return legs[1].Stats().SendErrors >= 10 && good.count() >= 10
	})
	if s := legs[1].Stats(); s.PacketsOut != 0 {
		t.Errorf("bad leg stats %+v", s)
	}
	if s := legs[0].Stats(); s.SendErrors != 0 {
		t.Errorf("good leg stats %+v", s)
	}
}
