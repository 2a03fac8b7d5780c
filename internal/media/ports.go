package media

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

// portPool hands out even UDP ports from an inclusive range. Allocation is
// round robin, so a port that was just released is the last to be reused;
// this keeps late packets of a finished call away from the next one. Ports
// that the operating system refuses (taken by another process) are skipped.
type portPool struct {
	mu       sync.Mutex
	min, max int // even; both 0 means "let the OS choose"
	next     int
	inUse    map[int]bool
}

func newPortPool(lo, hi int) *portPool {
	return &portPool{min: lo, max: hi, next: lo, inUse: make(map[int]bool)}
}

// bindFunc binds a UDP socket on port (0 for any).
type bindFunc func(port int) (*net.UDPConn, error)

// acquire binds a socket on a free port of the pool.
func (p *portPool) acquire(bind bindFunc) (*net.UDPConn, int, error) {
	if p.max == 0 {
		c, err := bind(0)
		if err != nil {
			return nil, 0, err
		}
		return c, c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	count := (p.max-p.min)/2 + 1
	for range count {
		port := p.next
		p.next += 2
		if p.next > p.max {
			p.next = p.min
		}
		if p.inUse[port] {
			continue
		}
		c, err := bind(port)
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		p.inUse[port] = true
		return c, port, nil
	}
	return nil, 0, ErrNoPorts
}

// release returns port to the pool. The socket must already be closed.
func (p *portPool) release(port int) {
	if p.max == 0 {
		return
	}
	p.mu.Lock()
	delete(p.inUse, port)
	p.mu.Unlock()
}

// udpBinder returns a bindFunc for local address ip. The network is forced
// to udp4 or udp6 so the socket family matches ip (Go would otherwise open a
// dual-stack IPv6 socket for 0.0.0.0), which the raw send path relies on.
func udpBinder(ip netip.Addr) bindFunc {
	network := "udp6"
	if ip.Is4() {
		network = "udp4"
	}
	return func(port int) (*net.UDPConn, error) {
		return net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	}
}
