//go:build linux

package load

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Capture watches SIP and sampled RTP on an interface (lo) through an
// AF_PACKET socket: a classic BPF filter drops everything else in the
// kernel, packets carry kernel receive timestamps (SO_TIMESTAMPNS), and
// the read loop does not allocate per packet. It needs root (CAP_NET_RAW).
type Capture struct {
	fd  int
	log *slog.Logger

	mu    sync.Mutex
	t     *tracker
	drops uint64

	stop atomic.Bool
	done chan struct{}
}

// captureRecvBuf is the socket receive buffer asked for (SO_RCVBUFFORCE).
const captureRecvBuf = 32 << 20

// OpenCapture opens the capture on the interface ifname ("lo"). Nothing is
// kept until Reset gives it a filter.
func OpenCapture(ifname string, log *slog.Logger) (*Capture, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("capture: interface %s: %w", ifname, err)
	}
	// Protocol 0: nothing arrives before bind, so the drop-all filter below
	// is in place before the first packet.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("capture: AF_PACKET socket (needs root or CAP_NET_RAW): %w", err)
	}
	c := &Capture{fd: fd, log: log, t: newTracker(captureFilter{}), done: make(chan struct{})}
	fail := func(what string, err error) (*Capture, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("capture: %s: %w", what, err)
	}
	if err := attachFilter(fd, []bpfInsn{{Code: bpfRET | bpfK, K: 0}}); err != nil {
		return fail("attach filter", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, captureRecvBuf); err != nil {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, captureRecvBuf); err != nil {
			return fail("SO_RCVBUF", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("SO_TIMESTAMPNS", err)
	}
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("SO_RCVTIMEO", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	go c.loop()
	return c, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func attachFilter(fd int, prog []bpfInsn) error {
	if len(prog) == 0 {
		return errors.New("empty BPF program")
	}
	// bpfInsn has struct sock_filter's layout.
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp)
}

// Reset starts a new run: packets from now on are matched against f, and
// what was tracked so far is dropped.
func (c *Capture) Reset(f captureFilter) error {
	prog, err := filterProgram(f)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	if err := attachFilter(c.fd, prog); err != nil {
		return fmt.Errorf("capture: attach filter: %w", err)
	}
	c.readDrops() // zero the kernel's counters
	c.mu.Lock()
	c.t = newTracker(f)
	c.drops = 0
	c.mu.Unlock()
	return nil
}

// Snapshot returns what was seen since Reset and starts afresh with the
// same filter.
func (c *Capture) Snapshot() *traceResult {
	d := c.readDrops()
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.t.result()
	r.Drops = c.drops + d
	c.t = newTracker(c.t.f)
	c.drops = 0
	return r
}

func (c *Capture) readDrops() uint64 {
	st, err := unix.GetsockoptTpacketStats(c.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return 0
	}
	return uint64(st.Drops)
}

// Close stops the capture and closes its socket.
func (c *Capture) Close() error {
	if c.stop.Swap(true) {
		return nil
	}
	<-c.done // the loop notices within SO_RCVTIMEO
	return unix.Close(c.fd)
}

// recvState holds the buffers recvmsg(2) fills; allocated once so that the
// read loop does not allocate.
type recvState struct {
	buf  [sipSnapLen + 1]byte
	oob  [128]byte
	name unix.RawSockaddrLinklayer
	iov  unix.Iovec
	msg  unix.Msghdr
}

func (c *Capture) loop() {
	defer close(c.done)
	rs := new(recvState)
	rs.iov.Base = &rs.buf[0]
	rs.iov.SetLen(len(rs.buf))
	rs.msg.Name = (*byte)(unsafe.Pointer(&rs.name))
	rs.msg.Iov = &rs.iov
	rs.msg.Iovlen = 1
	rs.msg.Control = &rs.oob[0]
	var errs int
	for !c.stop.Load() {
		rs.msg.Namelen = uint32(unsafe.Sizeof(rs.name))
		rs.msg.SetControllen(len(rs.oob))
		rs.msg.Flags = 0
		n, _, errno := unix.Syscall(unix.SYS_RECVMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&rs.msg)), 0)
		if errno != 0 {
			if errno == unix.EAGAIN || errno == unix.EINTR {
				continue
			}
			if errs++; errs == 1 {
				c.log.Warn("capture: recvmsg failed", "err", os.NewSyscallError("recvmsg", errno))
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if rs.name.Pkttype == packetOutgoing { // the filter drops these; be sure
			continue
		}
		ts := kernelTimestamp(rs.oob[:rs.msg.Controllen])
		if ts == 0 {
			ts = time.Now().UnixNano()
		}
		c.mu.Lock()
		c.t.packet(ts, rs.buf[:min(int(n), len(rs.buf))])
		c.mu.Unlock()
	}
}

// kernelTimestamp extracts SCM_TIMESTAMPNS from control messages; 0 when
// there is none. It does not allocate.
func kernelTimestamp(oob []byte) int64 {
	const hdr = int(unsafe.Sizeof(unix.Cmsghdr{}))
	if hdr != 16 { // 32-bit layouts: let the caller use the clock
		return 0
	}
	for len(oob) >= hdr {
		l := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if l < hdr || l > len(oob) {
			return 0
		}
		if level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMPNS && l >= hdr+16 {
			sec := int64(binary.NativeEndian.Uint64(oob[hdr : hdr+8]))
			nsec := int64(binary.NativeEndian.Uint64(oob[hdr+8 : hdr+16]))
			return sec*1e9 + nsec
		}
		next := (l + 7) &^ 7
		if next > len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}
