//go:build unix

package media

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
