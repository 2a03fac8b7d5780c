package load

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// freeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free TCP port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free UDP port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// freeUDPPortsOutside returns an even UDP port p in [40000, 60000) with p
// and p+2 free (SIPp binds its media port and media port + 2), both
// outside the server's media range [lo, hi].
func freeUDPPortsOutside(lo, hi int) (int, error) {
	for range 200 {
		p := 40000 + 2*rand.IntN(10000)
		if p+2 >= lo && p <= hi {
			continue
		}
		a, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		b, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p+2))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return p, nil
	}
	return 0, errors.New("no free UDP port pair outside the media range")
}
