package media

import "sync"

// maxNotices bounds the Handler calls waiting for the notifier. A handler
// that blocks for long enough to fill it loses digits (counted and logged)
// instead of growing memory without bound.
const maxNotices = 4096

// notice is one Handler call waiting to be made.
type notice struct {
	leg *Leg
	ev  DTMFEvent
	end bool // DTMFEnd rather than DTMF
}

// notifier calls leg Handlers on a goroutine of its own, in the order the
// clock found the events. The clock never calls a Handler itself: Handler
// methods may call back into the leg (even Close) and may be slow, and
// neither may stall the media of every call.
type notifier struct {
	mu      sync.Mutex
	queue   []notice
	dropped uint64
	wake    chan struct{} // capacity 1: "the queue is not empty"
	spare   []notice      // the notifier goroutine's last batch, reused
}

func newNotifier() *notifier { return &notifier{wake: make(chan struct{}, 1)} }

// notify queues a Handler call for l. It never blocks.
func (e *Engine) notify(l *Leg, ev DTMFEvent, end bool) {
	if end && l.endH == nil {
		return
	}
	n := e.notes
	n.mu.Lock()
	if len(n.queue) >= maxNotices {
		n.dropped++
		n.mu.Unlock()
		return
	}
	n.queue = append(n.queue, notice{leg: l, ev: ev, end: end})
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// runNotifier makes the queued Handler calls until stop is closed.
func (e *Engine) runNotifier(stop <-chan struct{}) {
	defer e.wg.Done()
	n := e.notes
	for {
		select {
		case <-stop:
			return
		case <-n.wake:
		}
		n.mu.Lock()
		batch, dropped := n.queue, n.dropped
		n.queue, n.dropped = n.spare[:0], 0
		n.mu.Unlock()
		if dropped > 0 {
			e.log.Warn("leg handlers fell behind; DTMF events dropped", "events", dropped)
		}
		for _, x := range batch {
			switch {
			case x.leg.closed.Load():
			case x.end:
				x.leg.endH.DTMFEnd(x.ev)
			default:
				x.leg.h.DTMF(x.ev)
			}
		}
		clear(batch) // drop the leg pointers
		n.spare = batch
	}
}
