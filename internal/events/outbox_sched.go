package events

import (
	"container/heap"
	"slices"
	"time"
)

// A key is in exactly one place at a time: the ready queue, a worker
// (active), or the waiting heap. That is what keeps one delivery per key in
// flight and the key's deliveries in order.
type keyPhase uint8

const (
	phaseReady keyPhase = iota
	phaseActive
	phaseWaiting
)

// keyState is one order key: its undelivered rows, oldest first, and who may
// send the head next and when. Every field is guarded by Outbox.mu. Only the
// worker holding the key (phaseActive) takes the head out of rows; others
// append (Enqueue) or remove rows behind the head (Expire).
type keyState struct {
	key   string
	rows  fifo[*outboxRow]
	phase keyPhase
	due   time.Time // phaseWaiting: when to retry
	index int       // position in the waiting heap, -1 if absent
}

// addKeyLocked registers key, with no rows yet, as ready.
func (o *Outbox) addKeyLocked(key string) *keyState {
	if len(o.keys) == 0 {
		o.idle = make(chan struct{})
	}
	st := &keyState{key: key, phase: phaseReady, index: -1}
	o.keys[key] = st
	o.ready.push(st)
	return st
}

// forgetKeyLocked drops a key that has no rows left and is in no queue.
func (o *Outbox) forgetKeyLocked(st *keyState) {
	delete(o.keys, st.key)
	if len(o.keys) == 0 {
		close(o.idle)
	}
}

// nextLocked is called by the worker holding st once its head row is done
// (delivered or dropped): the head leaves the queue, and the key goes back
// to the ready queue if it has more rows, else it is forgotten. It reports
// whether the dispatcher must be woken.
func (o *Outbox) nextLocked(st *keyState) bool {
	o.removeLocked(st.rows.pop())
	if st.rows.len() == 0 {
		o.forgetKeyLocked(st)
		return false
	}
	st.phase = phaseReady
	o.ready.push(st)
	return true
}

// backoffLocked parks an active key until due.
func (o *Outbox) backoffLocked(st *keyState, due time.Time) {
	st.phase = phaseWaiting
	st.due = due
	heap.Push(&o.waiting, st)
}

// promoteDueLocked moves keys whose backoff is over to the ready queue and
// returns the earliest remaining due time (zero if none).
func (o *Outbox) promoteDueLocked(now time.Time) time.Time {
	for len(o.waiting) > 0 {
		st := o.waiting[0]
		if st.due.After(now) {
			return st.due
		}
		heap.Pop(&o.waiting)
		st.phase = phaseReady
		o.ready.push(st)
	}
	return time.Time{}
}

// resetLocked makes every key ready again after Run's workers stopped (they
// may have left keys active or waiting). A head that was dropped while its
// attempt was abandoned leaves the queue; keys with no rows are forgotten.
func (o *Outbox) resetLocked() {
	o.ready = fifo[*keyState]{}
	o.waiting = o.waiting[:0]
	for _, st := range o.keys {
		for st.rows.len() > 0 && st.rows.peek().gone {
			st.rows.pop()
		}
		if st.rows.len() == 0 {
			o.forgetKeyLocked(st)
			continue
		}
		st.phase = phaseReady
		st.index = -1
		o.ready.push(st)
	}
}

// fifo is a first-in first-out queue on a slice.
type fifo[T comparable] struct {
	items []T
	head  int
}

func (q *fifo[T]) push(v T) { q.items = append(q.items, v) }

func (q *fifo[T]) len() int { return len(q.items) - q.head }

// live returns the queued items, oldest first (valid until the next change).
func (q *fifo[T]) live() []T { return q.items[q.head:] }

// peek returns the oldest item, or the zero T if the queue is empty.
func (q *fifo[T]) peek() T {
	var zero T
	if q.len() == 0 {
		return zero
	}
	return q.items[q.head]
}

func (q *fifo[T]) pop() T {
	var zero T
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head >= 1024 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return v
}

// removeItem removes the first occurrence of v (linear: per-key queues are
// short, and this is only for Expire and deleted subscriptions).
func (q *fifo[T]) removeItem(v T) {
	if i := slices.Index(q.live(), v); i >= 0 {
		q.items = slices.Delete(q.items, q.head+i, q.head+i+1)
	}
	if q.len() == 0 {
		q.items, q.head = q.items[:0], 0
	}
}

// keep removes the items for which f is false, keeping the order.
func (q *fifo[T]) keep(f func(T) bool) {
	live := slices.DeleteFunc(q.live(), func(v T) bool { return !f(v) })
	n := copy(q.items, live)
	clear(q.items[n:])
	q.items, q.head = q.items[:n], 0
}

// keyHeap orders waiting keys by due time (container/heap).
type keyHeap []*keyState

func (h keyHeap) Len() int           { return len(h) }
func (h keyHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h keyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *keyHeap) Push(x any) {
	st := x.(*keyState)
	st.index = len(*h)
	*h = append(*h, st)
}
func (h *keyHeap) Pop() any {
	old := *h
	n := len(old)
	st := old[n-1]
	old[n-1] = nil
	st.index = -1
	*h = old[:n-1]
	return st
}
