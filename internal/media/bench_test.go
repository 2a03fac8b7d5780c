package media

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// sink is a UDP socket that is never read; the kernel drops what overflows.
func sink(t testing.TB) int {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.LocalAddr().(*net.UDPAddr).Port
}

// benchCall builds a non-running engine with one mixer of n started legs,
// all sending to a sink. feed queues one received frame on every leg.
func benchCall(t testing.TB, n int) (e *Engine, feed func()) {
	cfg := testConfig()
	cfg.InactivityTimeout = time.Hour
	e = newEngine(t, cfg)
	m := e.NewMixer()
	port := sink(t)
	legs := make([]*Leg, n)
	for i := range legs {
		l, err := e.NewLeg(nil)
		if err != nil {
			t.Fatal(err)
		}
		pt := "0"
		if i%2 == 1 {
			pt = "8"
		}
		if _, err := l.Answer(offerSDP(port, pt)); err != nil {
			t.Fatal(err)
		}
		l.Start()
		if err := m.Add(l); err != nil {
			t.Fatal(err)
		}
		legs[i] = l
	}
	t.Cleanup(m.Close)
	frame := tone(1000, 8000, 0, FrameSamples)
	return e, func() {
		for _, l := range legs {
			l.rxMu.Lock()
			l.ring.write(frame)
			l.rxMu.Unlock()
		}
	}
}

func audioPacket() []byte {
	return rtpPacket(0, 1, 0, 42, false, encodeFrame(encPCMU, tone(1000, 8000, 0, FrameSamples)))
}

// TestHotPathAllocs asserts that receiving a packet and running a clock
// tick (mixing, encoding, sending) do not allocate.
func TestHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	l := fuzzLeg(t)
	defer l.Close()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	pkt := audioPacket()
	var frame [FrameSamples]int16
	seq := uint16(1)
	if a := testing.AllocsPerRun(200, func() {
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		l.handlePacket(pkt, from)
		l.pullFrame(&frame)
	}); a != 0 {
		t.Errorf("audio receive: %v allocs per packet", a)
	}
	ev := rtpPacket(101, 1, 0, 42, false, eventPayload(1, false, 160))
	if a := testing.AllocsPerRun(200, func() { l.handlePacket(ev, from) }); a != 0 {
		t.Errorf("event receive: %v allocs per packet", a)
	}
	garbage := []byte{0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1}
	if a := testing.AllocsPerRun(200, func() { l.handlePacket(garbage, from) }); a != 0 {
		t.Errorf("bad payload type: %v allocs per packet", a)
	}

	e, feed := benchCall(t, 3)
	now := time.Now()
	e.tick(now, 0) // sizes the scratch slices
	if a := testing.AllocsPerRun(200, func() { feed(); e.tick(now, 0) }); a != 0 {
		t.Errorf("clock tick: %v allocs", a)
	}
}

func BenchmarkParseRTP(b *testing.B) {
	pkt := audioPacket()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseRTP(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiveAudio is the per-packet receive path after the socket
// read: parse, validate, decode, queue, and the clock's dequeue.
func BenchmarkReceiveAudio(b *testing.B) {
	l := fuzzLeg(b)
	defer l.Close()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	pkt := audioPacket()
	var frame [FrameSamples]int16
	seq := uint16(1)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		l.handlePacket(pkt, from)
		l.pullFrame(&frame)
	}
}

func BenchmarkReceiveDTMF(b *testing.B) {
	l := fuzzLeg(b)
	defer l.Close()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	pkt := rtpPacket(101, 1, 0, 42, false, eventPayload(1, false, 160))
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		i++
		binary.BigEndian.PutUint32(pkt[4:], i/8*800) // a new event every 8 packets
		l.handlePacket(pkt, from)
	}
}

// BenchmarkTick is one clock tick of a call with n legs: mix-minus,
// G.711 encoding and a non-blocking send per leg.
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{1, 3, 10} {
		b.Run(fmt.Sprintf("legs=%d", n), func(b *testing.B) {
			e, feed := benchCall(b, n)
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				feed()
				e.tick(now, 0)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/packet")
		})
	}
}

// BenchmarkConference measures the shared clock with many conference calls:
// every tick mixes (mix-minus), encodes and sends one packet per leg of
// every call. ns/leg is the cost of one mixed leg per 20 ms tick, so a core
// carries about 20ms / (ns/leg) legs.
func BenchmarkConference(b *testing.B) {
	for _, calls := range []int{10, 50} {
		for _, parts := range []int{3, 5} {
			b.Run(fmt.Sprintf("calls=%d/participants=%d", calls, parts), func(b *testing.B) {
				cfg := testConfig()
				cfg.InactivityTimeout = time.Hour
				e := newEngine(b, cfg)
				port := sink(b)
				frame := tone(1000, 8000, 0, FrameSamples)
				var legs []*Leg
				for c := 0; c < calls; c++ {
					m := e.NewMixer()
					b.Cleanup(m.Close)
					for i := 0; i < parts; i++ {
						l, err := e.NewLeg(nil)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := l.Answer(offerSDP(port, "0")); err != nil {
							b.Fatal(err)
						}
						l.Start()
						if err := m.Add(l); err != nil {
							b.Fatal(err)
						}
						legs = append(legs, l)
					}
				}
				now := time.Now()
				b.ReportAllocs()
				for b.Loop() {
					for _, l := range legs {
						l.rxMu.Lock()
						l.ring.write(frame)
						l.rxMu.Unlock()
					}
					e.tick(now, 0)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(legs)), "ns/leg")
			})
		}
	}
}
