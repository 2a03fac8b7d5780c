package media

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

// TestShardsCoverEveryIndexOnce checks that a phase visits each index
// exactly once, whatever the split.
func TestShardsCoverEveryIndexOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		s := startShards(workers)
		for _, count := range []int{0, 1, shardMin - 1, shardMin, 2*shardMin + 1, 1000, 1001} {
			var mu sync.Mutex
			seen := make([]int, count)
			s.run(count, func(w, lo, hi int) {
				if w >= s.workers() {
					t.Errorf("worker %d of %d", w, s.workers())
				}
				mu.Lock()
				defer mu.Unlock()
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, n := range seen {
				if n != 1 {
					t.Fatalf("workers=%d count=%d: index %d visited %d times", workers, count, i, n)
				}
			}
		}
		s.stop()
	}
}

// TestShardedTickRunsEveryCall runs ticks over enough calls to be split
// across workers and checks that every leg was drained, mixed and sent,
// each with its own audio: call i's peer sends value i and its tap must
// see exactly that.
func TestShardedTickRunsEveryCall(t *testing.T) {
	const calls = 3 * shardMin
	cfg := testConfig()
	cfg.Workers = 3
	e := newEngine(t, cfg)
	e.setWorkers(startShards(3))
	defer e.shards.stop()
	peer := newPeer(t)
	type tapped struct {
		mu    sync.Mutex
		frame []int16
	}
	legs := make([]*Leg, calls)
	taps := make([]*tapped, calls)
	for i := range legs {
		m := e.NewMixer()
		t.Cleanup(m.Close)
		l, err := e.NewLeg(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Answer(offerSDP(peer.port(), "0")); err != nil {
			t.Fatal(err)
		}
		tp := &tapped{}
		l.SetTap(func(f []int16) {
			tp.mu.Lock()
			tp.frame = append(tp.frame[:0], f...)
			tp.mu.Unlock()
		})
		l.Start()
		if err := m.Add(l); err != nil {
			t.Fatal(err)
		}
		legs[i], taps[i] = l, tp
	}
	// Call i's peer sends µ-law code i, so every call hears its own level.
	for i, l := range legs {
		peer.send(l.LocalPort(), rtpPacket(0, 1, 0, uint32(i+1), false, bytes.Repeat([]byte{byte(i)}, FrameSamples)))
	}
	e.tick(time.Now(), 0)
	for i, l := range legs {
		st := l.Stats()
		if st.PacketsIn != 1 || st.PacketsOut != 1 {
			t.Fatalf("leg %d: %d packets in, %d out; want 1 and 1", i, st.PacketsIn, st.PacketsOut)
		}
		taps[i].mu.Lock()
		got := taps[i].frame
		taps[i].mu.Unlock()
		if len(got) != FrameSamples {
			t.Fatalf("leg %d: tap saw %d samples", i, len(got))
		}
		if want := g711.DecodeUlaw(byte(i)); got[0] != want || got[FrameSamples-1] != want {
			t.Fatalf("leg %d heard %d…%d, want %d (another call's audio?)", i, got[0], got[FrameSamples-1], want)
		}
	}
	waitFor(t, "every leg's packet at the peer", func() bool { return peer.count() >= calls })
}

// drainLeg returns a started PCMU leg, outside any mixer, of an engine
// whose clock does not run (the test drains it), and its peer.
func drainLeg(t *testing.T) (*Engine, *Leg, *peer) {
	t.Helper()
	e := newEngine(t, testConfig())
	l, err := e.NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	peer := newPeer(t)
	if _, err := l.Answer(offerSDP(peer.port(), "0")); err != nil {
		t.Fatal(err)
	}
	l.Start()
	return e, l, peer
}

// TestDrainIsBounded floods one leg and checks that a tick takes at most
// maxDrain datagrams from it, leaving the rest for later ticks.
func TestDrainIsBounded(t *testing.T) {
	e, l, peer := drainLeg(t)
	const sent = 2*maxDrain + 5
	silence := bytes.Repeat([]byte{0xFF}, FrameSamples)
	for i := range sent {
		peer.send(l.LocalPort(), rtpPacket(0, uint16(i+1), uint32(i*FrameSamples), 7, false, silence))
	}
	var got []uint64
	for range 3 {
		l.drain(e.rx[0])
		got = append(got, l.Stats().PacketsIn)
	}
	if got[0] != maxDrain || got[1] != 2*maxDrain || got[2] != sent {
		t.Fatalf("packets after each drain: %v; want %d, %d, %d", got, maxDrain, 2*maxDrain, sent)
	}
}

// TestDrainAllocs checks that reading a datagram from the socket and
// handling it does not allocate.
func TestDrainAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	e, l, peer := drainLeg(t)
	rb := e.rx[0]
	pkt := audioPacket()
	seq := uint16(1)
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(l.LocalPort()))
	var frame [FrameSamples]int16
	if a := testing.AllocsPerRun(200, func() {
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		if _, err := peer.conn.WriteToUDPAddrPort(pkt, to); err != nil {
			t.Fatal(err)
		}
		l.drain(rb)
		l.pullFrame(&frame)
	}); a > 1 { // WriteToUDPAddrPort, the test's own send, may allocate once
		t.Errorf("drain: %v allocs per packet", a)
	}
	if st := l.Stats(); st.PacketsIn < 200 || st.Latched != true || st.RemoteAddr.Port() != uint16(peer.port()) {
		t.Errorf("stats after the run: %+v", st)
	}
}
