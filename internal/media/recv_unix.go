//go:build unix && !linux

package media

import (
	"errors"
	"net/netip"

	"golang.org/x/sys/unix"
)

// rxBatch is a clock worker's receive buffer: one datagram per read with
// recvfrom(2) and MSG_DONTWAIT. Unlike the Linux receiver this allocates
// the sender's address for every packet.
type rxBatch struct {
	bufs   [1][maxPacketSize + 1]byte
	bufLen int
	n      int
	from   netip.AddrPort
	err    error
}

func newRxBatch() *rxBatch { return &rxBatch{} }

func (l *Leg) rawRecv(fd uintptr) bool {
	rb := l.rd.recv.rb
	n, sa, err := unix.Recvfrom(int(fd), rb.bufs[0][:], unix.MSG_DONTWAIT)
	rb.n, rb.from, rb.err = 1, netip.AddrPort{}, nil
	if err != nil {
		rb.n, rb.err = 0, err
		if errors.Is(err, unix.EAGAIN) {
			rb.err = errNoPacket
		}
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		rb.from = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		rb.from = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	rb.bufLen = n
	return true // never wait for readability
}

// packet returns the datagram of the last recvBatch and its sender.
func (rb *rxBatch) packet(int) ([]byte, netip.AddrPort) { return rb.bufs[0][:rb.bufLen], rb.from }
