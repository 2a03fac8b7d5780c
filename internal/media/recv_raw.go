//go:build unix

package media

// recvState is a leg's side of receiving: the batch lent to it for one
// drain, and its read function (the platform's rawRecv), bound once so
// that receiving does not allocate.
type recvState struct {
	rb     *rxBatch
	recvFn func(fd uintptr) bool
}

func (l *Leg) initReceiver() { l.rd.recv.recvFn = l.rawRecv }

// recvBatch reads the datagrams waiting on the leg's socket, up to the
// batch's size, into rb, through the platform's rawRecv. It returns
// errNoPacket at once when there are none.
func (l *Leg) recvBatch(rb *rxBatch) (int, error) {
	l.rd.recv.rb = rb
	err := l.raw.Read(l.rd.recv.recvFn)
	l.rd.recv.rb = nil
	if err != nil {
		return 0, err
	}
	return rb.n, rb.err
}
