package media

import (
	"context"
	"errors"
	"net"
	"runtime"
	"slices"
	"syscall"
	"testing"
)

// TestCloseReleasesResources creates and closes many legs (alone, in
// mixers, via Mixer.Close) and checks that the goroutine count returns to
// its baseline.
func TestCloseReleasesResources(t *testing.T) {
	eng := runEngine(t, testConfig())
	p := newPeer(t)
	waitFor(t, "the clock's first tick", func() bool { return eng.ticks.Load() > 0 })
	baseline := runtime.NumGoroutine()
	for range 5 {
		m := eng.NewMixer()
		var loose []*Leg
		for i := range 20 {
			l, err := eng.NewLeg(&recHandler{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.Answer(offerSDP(p.port(), "0 8")); err != nil {
				t.Fatal(err)
			}
			l.Start()
			switch i % 3 {
			case 0:
				if err := m.Add(l); err != nil {
					t.Fatal(err)
				}
			case 1:
				loose = append(loose, l)
			case 2:
				l.SetSource(&countingSource{frames: 1 << 30})
				if err := m.Add(l); err != nil {
					t.Fatal(err)
				}
				m.Remove(l)
				loose = append(loose, l)
			}
		}
		m.Close()
		for _, l := range loose {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= baseline })
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if len(eng.legs) != 0 || len(eng.mixers) != 0 {
		t.Fatalf("engine still tracks %d legs and %d mixers", len(eng.legs), len(eng.mixers))
	}
}

// freePortRange returns an even-aligned range of n even ports starting at
// a port the OS just handed out, so it is likely free.
func freePortRange(t *testing.T, n int) (lo, hi int) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	lo = port &^ 1
	if lo+2*n > 65535 {
		lo -= 2 * n
	}
	return lo, lo + 2*(n-1)
}

// TestPortsReused exhausts a small real port range and checks that closing
// legs makes the same ports available again.
func TestPortsReused(t *testing.T) {
	lo, hi := freePortRange(t, 4)
	cfg := testConfig()
	cfg.PortMin, cfg.PortMax = lo, hi+1 // odd bound: the last usable port is hi
	eng := runEngine(t, cfg)

	allocate := func() []int {
		var ports []int
		var legs []*Leg
		for {
			l, err := eng.NewLeg(nil)
			if errors.Is(err, ErrNoPorts) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			legs = append(legs, l)
			ports = append(ports, l.LocalPort())
			if len(legs) > 4 {
				t.Fatalf("allocated %d legs from a range of 4 ports", len(legs))
			}
		}
		for _, l := range legs {
			l.Start()
			l.Close()
		}
		slices.Sort(ports)
		return ports
	}
	first := allocate()
	if len(first) == 0 {
		t.Skip("every port of the probed range is in use by another process")
	}
	for _, p := range first {
		if p%2 != 0 || p < lo || p > hi {
			t.Fatalf("port %d is odd or outside [%d,%d]", p, lo, hi)
		}
	}
	for round := range 3 {
		if again := allocate(); !slices.Equal(again, first) {
			t.Fatalf("round %d: ports %v, want %v", round, again, first)
		}
	}
}

func TestPortPool(t *testing.T) {
	var bound []int
	taken := map[int]bool{12: true} // used by another process
	bind := func(port int) (*net.UDPConn, error) {
		if taken[port] {
			return nil, syscall.EADDRINUSE
		}
		bound = append(bound, port)
		return nil, nil
	}
	p := newPortPool(10, 16)
	var got []int
	for {
		_, port, err := p.acquire(bind)
		if errors.Is(err, ErrNoPorts) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, port)
	}
	if want := []int{10, 14, 16}; !slices.Equal(got, want) {
		t.Fatalf("acquired %v, want %v", got, want)
	}
	p.release(14)
	if _, port, err := p.acquire(bind); err != nil || port != 14 {
		t.Fatalf("after release: port %d err %v, want 14", port, err)
	}
	// Round robin: the cursor is after 14, so once 10 and 16 are free
	// again 16 comes first, then 10.
	p.release(10)
	p.release(16)
	_, a, _ := p.acquire(bind)
	_, b, _ := p.acquire(bind)
	if a != 16 || b != 10 {
		t.Fatalf("round robin gave %d, %d; want 16, 10", a, b)
	}
	// Other bind errors are returned as is.
	boom := errors.New("boom")
	p.release(10)
	if _, _, err := p.acquire(func(int) (*net.UDPConn, error) { return nil, boom }); err != boom {
		t.Fatalf("err = %v, want boom", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"loopback ephemeral", Config{BindIP: "127.0.0.1"}, true},
		{"wildcard with advertise", Config{BindIP: "0.0.0.0", AdvertiseIP: "192.0.2.1", PortMin: 10000, PortMax: 20000}, true},
		{"empty bind means wildcard", Config{AdvertiseIP: "192.0.2.1"}, true},
		{"ipv6", Config{BindIP: "::1"}, true},
		{"wildcard without advertise", Config{BindIP: "0.0.0.0"}, false},
		{"bad bind", Config{BindIP: "example.com"}, false},
		{"bad advertise", Config{BindIP: "127.0.0.1", AdvertiseIP: "nope"}, false},
		{"multicast advertise", Config{BindIP: "0.0.0.0", AdvertiseIP: "239.1.1.1"}, false},
		{"family mismatch", Config{BindIP: "0.0.0.0", AdvertiseIP: "2001:db8::1"}, false},
		{"inverted range", Config{BindIP: "127.0.0.1", PortMin: 20000, PortMax: 10000}, false},
		{"range too high", Config{BindIP: "127.0.0.1", PortMin: 10000, PortMax: 70000}, false},
		{"only min", Config{BindIP: "127.0.0.1", PortMin: 10000}, false},
		{"no even port", Config{BindIP: "127.0.0.1", PortMin: 10001, PortMax: 10001}, false},
		{"single even port", Config{BindIP: "127.0.0.1", PortMin: 10001, PortMax: 10002}, true},
		{"negative timeout", Config{BindIP: "127.0.0.1", InactivityTimeout: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEngine(tt.cfg, nil)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadConfig) {
				t.Fatalf("err = %v, want ErrBadConfig", err)
			}
		})
	}
}

func TestRunLifecycle(t *testing.T) {
	eng := newEngine(t, testConfig())
	leg, err := eng.NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	leg.Start()
	m := eng.NewMixer()
	if err := m.Add(leg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	waitFor(t, "engine running", eng.running.Load)
	if err := eng.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run = %v, want ErrRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	// Run closed everything and the engine is now unusable.
	if !leg.closed.Load() {
		t.Fatal("Run did not close the leg")
	}
	if _, err := eng.NewLeg(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewLeg after Run = %v, want ErrClosed", err)
	}
	if err := eng.NewMixer().Add(leg); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Run = %v, want ErrClosed", err)
	}
	if _, err := leg.Offer(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Offer on closed leg = %v, want ErrClosed", err)
	}
}
