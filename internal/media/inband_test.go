package media

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/media/dtmf"
)

// inbandLeg starts a leg in a mixer that answered offer formats from a
// new peer.
func inbandLeg(t *testing.T, formats string, extra ...string) (*Leg, *recHandler, *peer) {
	t.Helper()
	eng := runEngine(t, testConfig())
	h := &recHandler{}
	leg, err := eng.NewLeg(h)
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t)
	if _, err := leg.Answer(offerSDP(p.port(), formats, extra...)); err != nil {
		t.Fatal(err)
	}
	call := eng.NewMixer()
	t.Cleanup(call.Close)
	leg.Start()
	if err := call.Add(leg); err != nil {
		t.Fatal(err)
	}
	return leg, h, p
}

// sendAudio sends pcm from p as RTP packets of one frame, lightly paced.
// skip lists frame indexes that are not sent (lost, or not transmitted).
func (p *peer) sendAudio(to int, pt uint8, ssrc uint32, pcm []int16, skip func(i int) bool) {
	enc := encPCMU
	if pt == 8 {
		enc = encPCMA
	}
	for i := 0; (i+1)*FrameSamples <= len(pcm); i++ {
		if skip != nil && skip(i) {
			continue
		}
		frame := pcm[i*FrameSamples : (i+1)*FrameSamples]
		p.send(to, rtpPacket(pt, uint16(1000+i), uint32(50000+i*FrameSamples), ssrc, i == 0, encodeFrame(enc, frame)))
		time.Sleep(500 * time.Microsecond)
	}
}

func pad(pcm []int16) []int16 {
	out := make([]int16, 0, len(pcm)+3200)
	out = append(out, make([]int16, 800)...)
	out = append(out, pcm...)
	return append(out, make([]int16, 2400)...)
}

func TestInbandDTMFReceived(t *testing.T) {
	const want = "159#*0DA"
	for _, pt := range []uint8{0, 8} {
		leg, h, p := inbandLeg(t, string('0'+pt))
		p.sendAudio(leg.LocalPort(), pt, 0x1234, pad(dtmf.GenerateSequence(want, 80*time.Millisecond, 60*time.Millisecond)), nil)
		waitFor(t, "every digit to end", func() bool {
			_, ends := h.digits()
			return len(ends) >= len(want)
		})
		if onsets, ends := h.digits(); onsets != want || ends != want {
			t.Errorf("pt %d: onsets %q ends %q, want %q", pt, onsets, ends, want)
		}
		h.mu.Lock()
		for i := range h.onsets {
			if on, end := h.onsets[i].Duration, h.ends[i].Duration; on < 30*time.Millisecond || on > 40*time.Millisecond ||
				end < 70*time.Millisecond || end > 95*time.Millisecond {
				t.Errorf("pt %d digit %d: durations %v at onset, %v at end", pt, i, on, end)
			}
		}
		h.mu.Unlock()
		if s := leg.Stats(); s.DTMF != uint64(len(want)) {
			t.Errorf("pt %d: stats DTMF = %d", pt, s.DTMF)
		}
	}
}

func TestInbandGapsAndLoss(t *testing.T) {
	leg, h, p := inbandLeg(t, "0")
	// "55" then "7": the sender transmits nothing during the 60 ms pauses
	// (timestamps jump), and one packet in the middle of "7" is lost.
	pcm := pad(dtmf.GenerateSequence("557", 100*time.Millisecond, 60*time.Millisecond))
	// Frames: 5 lead-in, then per digit 5 tone + 3 pause.
	pause := func(i int) bool { i -= 5; return i >= 0 && i < 16 && i%8 >= 5 }
	lost := func(i int) bool { return i == 5+16+2 }
	p.sendAudio(leg.LocalPort(), 0, 0x77, pcm, func(i int) bool { return pause(i) || lost(i) })
	waitFor(t, "three digits to end", func() bool {
		_, ends := h.digits()
		return len(ends) >= 3
	})
	time.Sleep(50 * time.Millisecond)
	if onsets, ends := h.digits(); onsets != "557" || ends != "557" {
		t.Errorf("onsets %q ends %q, want 557", onsets, ends)
	}
}

// TestInbandNotWithTelephoneEvent: with telephone-event negotiated only
// RFC 4733 events count, so tones in the audio are not reported.
func TestInbandNotWithTelephoneEvent(t *testing.T) {
	leg, h, p := inbandLeg(t, "0 101", "a=rtpmap:101 telephone-event/8000")
	p.sendAudio(leg.LocalPort(), 0, 0x99, pad(dtmf.GenerateSequence("123", 80*time.Millisecond, 60*time.Millisecond)), nil)
	// A sentinel RFC 4733 event marks the end of the audio.
	for range 3 {
		p.send(leg.LocalPort(), rtpPacket(101, 5000, 900000, 0x99, true, eventPayload(15, true, 800)))
	}
	waitFor(t, "sentinel event", func() bool { on, _ := h.digits(); return on != "" })
	if onsets, _ := h.digits(); onsets != "D" {
		t.Errorf("onsets %q, want only the RFC 4733 D", onsets)
	}
}

// With in-band detection switched off, tones in the audio are not digits,
// and switching it back on detects the next ones.
func TestInbandSwitchedOff(t *testing.T) {
	leg, h, p := inbandLeg(t, "0")
	leg.SetInbandDTMF(false)
	p.sendAudio(leg.LocalPort(), 0, 0x77, pad(dtmf.GenerateSequence("123", 80*time.Millisecond, 60*time.Millisecond)), nil)
	waitFor(t, "the audio to arrive", func() bool { return leg.Stats().PacketsIn > 20 })
	time.Sleep(100 * time.Millisecond)
	if onsets, _ := h.digits(); onsets != "" {
		t.Fatalf("detected %q with in-band detection off", onsets)
	}
	leg.SetInbandDTMF(true)
	p.sendAudio(leg.LocalPort(), 0, 0x78, pad(dtmf.GenerateSequence("9", 80*time.Millisecond, 60*time.Millisecond)), nil)
	waitFor(t, "the digit after switching on", func() bool { on, _ := h.digits(); return on == "9" })
}

// inbandFuzzLeg is fuzzLeg without telephone-event.
func inbandFuzzLeg(t testing.TB) *Leg {
	l, err := newEngine(t, testConfig()).NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Answer(offerSDP(4000, "0")); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestInbandAllocs: receiving audio with the in-band detector running,
// digits included, does not allocate.
func TestInbandAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	l := inbandFuzzLeg(t)
	defer l.Close()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	var frame [FrameSamples]int16
	seq := uint16(0)
	if a := testing.AllocsPerRun(300, func() {
		pkt := inbandPackets[int(seq)%len(inbandPackets)]
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*FrameSamples)
		l.handlePacket(pkt, from)
		l.pullFrame(&frame)
	}); a != 0 {
		t.Errorf("%v allocs per packet", a)
	}
	if l.Stats().DTMF < 5 {
		t.Errorf("only %d digits detected", l.Stats().DTMF)
	}
}

var inbandPackets = func() [][]byte {
	pcm := dtmf.GenerateSequence("1234567890", 100*time.Millisecond, 100*time.Millisecond)
	var pkts [][]byte
	for i := 0; (i+1)*FrameSamples <= len(pcm); i++ {
		pkts = append(pkts, rtpPacket(0, uint16(i), uint32(i*FrameSamples), 42, false,
			encodeFrame(encPCMU, pcm[i*FrameSamples:(i+1)*FrameSamples])))
	}
	return pkts
}()

// BenchmarkReceiveAudioInband is BenchmarkReceiveAudio with the in-band
// detector running, on audio that holds digits half of the time.
func BenchmarkReceiveAudioInband(b *testing.B) {
	l := inbandFuzzLeg(b)
	defer l.Close()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	var frame [FrameSamples]int16
	seq := uint16(0)
	b.ReportAllocs()
	for b.Loop() {
		pkt := inbandPackets[int(seq)%len(inbandPackets)]
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*FrameSamples)
		l.handlePacket(pkt, from)
		l.pullFrame(&frame)
	}
}

// TestInbandDTMFInLongPackets sends 60 ms packets, which the receive path
// decodes one frame's worth at a time: the digits must survive the split.
func TestInbandDTMFInLongPackets(t *testing.T) {
	const want = "2580"
	const perPacket = 3 * FrameSamples
	leg, h, p := inbandLeg(t, "0")
	pcm := pad(dtmf.GenerateSequence(want, 100*time.Millisecond, 70*time.Millisecond))
	for i := 0; (i+1)*perPacket <= len(pcm); i++ {
		chunk := pcm[i*perPacket : (i+1)*perPacket]
		p.send(leg.LocalPort(), rtpPacket(0, uint16(i+1), uint32(i*perPacket), 0x60, i == 0, encodeFrame(encPCMU, chunk)))
		time.Sleep(time.Millisecond)
	}
	waitFor(t, "every digit to end", func() bool {
		_, ends := h.digits()
		return len(ends) >= len(want)
	})
	if onsets, ends := h.digits(); onsets != want || ends != want {
		t.Errorf("onsets %q ends %q, want %q", onsets, ends, want)
	}
}
