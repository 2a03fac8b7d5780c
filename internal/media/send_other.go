//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package media

import "net/netip"

// platformSender falls back to net.UDPConn writes, which may block briefly
// when the socket buffer is full.
type platformSender struct{}

func (l *Leg) initSender() {}

func (l *Leg) writePacket(pkt []byte, to netip.AddrPort) error {
	_, err := l.conn.WriteToUDPAddrPort(pkt, to)
	return err
}
