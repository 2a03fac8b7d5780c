//go:build !unix

package media

import (
	"errors"
	"net/netip"
	"os"
	"time"
)

// rxBatch is a clock worker's receive buffer where non-blocking reads are
// not available: recvBatch falls back to a read with a deadline a moment
// away.
type rxBatch struct {
	bufs   [1][maxPacketSize + 1]byte
	bufLen int
	from   netip.AddrPort
}

func newRxBatch() *rxBatch { return &rxBatch{} }

type recvState struct{}

func (l *Leg) initReceiver() {}

// recvBatch reads one datagram into rb if one arrives within a moment,
// else returns errNoPacket.
func (l *Leg) recvBatch(rb *rxBatch) (int, error) {
	if err := l.conn.SetReadDeadline(time.Now().Add(100 * time.Microsecond)); err != nil {
		return 0, err
	}
	n, from, err := l.conn.ReadFromUDPAddrPort(rb.bufs[0][:])
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, errNoPacket
	}
	if err != nil {
		return 0, err
	}
	rb.bufLen, rb.from = n, from
	return 1, nil
}

// packet returns the datagram of the last recvBatch and its sender.
func (rb *rxBatch) packet(int) ([]byte, netip.AddrPort) { return rb.bufs[0][:rb.bufLen], rb.from }
