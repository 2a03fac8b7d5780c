//go:build linux

package media

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rxBatchLen is how many datagrams one recvmmsg(2) may take. A peer sends
// one packet per tick, so a batch of four empties the socket in a single
// system call, even after a burst.
const rxBatchLen = 4

// rxBatch is a clock worker's receive buffers for recvmmsg(2): the
// datagrams, their senders, and the message headers pointing at both. The
// headers are built once; the kernel fills in lengths.
type rxBatch struct {
	bufs  [rxBatchLen][maxPacketSize + 1]byte
	names [rxBatchLen]unix.RawSockaddrAny
	iovs  [rxBatchLen]unix.Iovec
	hdrs  [rxBatchLen]unix.Mmsghdr
	n     int
	err   error
}

func newRxBatch() *rxBatch {
	rb := &rxBatch{}
	for i := range rb.hdrs {
		rb.iovs[i].Base = &rb.bufs[i][0]
		rb.iovs[i].SetLen(len(rb.bufs[i]))
		h := &rb.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&rb.names[i]))
		h.Iov = &rb.iovs[i]
		h.SetIovlen(1)
	}
	return rb
}

func (l *Leg) rawRecv(fd uintptr) bool {
	rb := l.rd.recv.rb
	for i := range rb.hdrs {
		rb.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrAny
		rb.hdrs[i].Hdr.Flags = 0
		rb.hdrs[i].Len = 0
	}
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd,
		uintptr(unsafe.Pointer(&rb.hdrs[0])), uintptr(len(rb.hdrs)),
		unix.MSG_DONTWAIT, 0, 0)
	switch errno {
	case 0:
		rb.n, rb.err = int(n), nil
	case unix.EAGAIN:
		rb.n, rb.err = 0, errNoPacket
	default:
		rb.n, rb.err = 0, errno
	}
	return true // never wait for readability
}

// packet returns datagram i of the last recvBatch and its sender.
func (rb *rxBatch) packet(i int) ([]byte, netip.AddrPort) {
	return rb.bufs[i][:rb.hdrs[i].Len], sockaddrPort(&rb.names[i])
}

// sockaddrPort decodes a sender's address as the kernel wrote it.
func sockaddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), networkPort(sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), networkPort(sa.Port))
	}
	return netip.AddrPort{}
}

// networkPort converts a port in network byte order, as the kernel stores
// it in a sockaddr, to a number.
func networkPort(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
