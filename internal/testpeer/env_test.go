package testpeer

import "testing"

// TestFreePortsNeverRepeat checks that no two peers in one test process are
// handed the same port, whatever the kernel's probe sockets return.
func TestFreePortsNeverRepeat(t *testing.T) {
	seen := map[int]string{}
	note := func(kind string, port int, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[port]; dup {
			t.Fatalf("port %d handed out twice (%s, then %s)", port, prev, kind)
		}
		seen[port] = kind
	}
	for range 300 {
		p, err := FreeUDPPort()
		note("udp", p, err)
		p, err = FreeTCPPort()
		note("tcp", p, err)
		p, err = FreeUDPTCPPort()
		note("udp+tcp", p, err)
		p, err = freeUDPPortPair(2)
		note("pair", p, err)
		note("pair+2", p+2, nil)
	}
}
