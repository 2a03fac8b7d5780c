//go:build linux || darwin || freebsd || netbsd || openbsd

package media

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// platformSender sends with sendto(2) and MSG_DONTWAIT through the socket's
// RawConn: a full socket buffer fails the send with EAGAIN instead of
// parking the shared clock goroutine, as net.UDPConn.WriteTo would.
type platformSender struct {
	pkt    []byte
	sa     unix.Sockaddr
	saAddr netip.AddrPort // destination sa was built for
	err    error
	send   func(fd uintptr) bool // l.rawSend, bound once so that sending does not allocate
}

func (l *Leg) initSender() { l.tx.send = l.rawSend }

func (l *Leg) rawSend(fd uintptr) bool {
	l.tx.err = unix.Sendto(int(fd), l.tx.pkt, unix.MSG_DONTWAIT, l.tx.sa)
	return true // never wait for writability
}

// writePacket sends pkt to to without blocking.
func (l *Leg) writePacket(pkt []byte, to netip.AddrPort) error {
	tx := &l.tx
	if tx.sa == nil || tx.saAddr != to {
		// The socket family matches the bind address (see udpBinder) and
		// SDP addresses of the other family are rejected.
		if to.Addr().Is4() {
			sa := &unix.SockaddrInet4{Port: int(to.Port()), Addr: to.Addr().As4()}
			tx.sa = sa
		} else {
			tx.sa = &unix.SockaddrInet6{Port: int(to.Port()), Addr: to.Addr().As16()}
		}
		tx.saAddr = to
	}
	tx.pkt = pkt
	if err := l.raw.Write(tx.send); err != nil {
		return err
	}
	tx.pkt = nil
	return tx.err
}
