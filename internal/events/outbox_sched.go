package events

import (
	"container/heap"
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

// keyState is the in-memory scheduling state of one order key. The table is
// the queue; this only says who may touch the key's head next and when.
// phase, notified, due and index are guarded by Outbox.mu; headSeq,
// attempts and delivered belong to the worker holding the key (handed over
// through the mutex and the work channel).
type keyState struct {
	key      string
	phase    keyPhase
	notified bool      // a row was enqueued since the worker last looked
	due      time.Time // phaseWaiting: when to retry
	index    int       // position in the waiting heap, -1 if absent

	headSeq   int64 // seq of the head row the attempts count is for
	attempts  int   // failed attempts for headSeq
	delivered int64 // seq delivered whose row delete failed; never resend it
}

// addKeyLocked registers key as ready. o.mu must be held (or o not yet shared).
func (o *Outbox) addKeyLocked(key string) {
	if len(o.keys) == 0 {
		o.idle = make(chan struct{})
	}
	st := &keyState{key: key, phase: phaseReady, index: -1}
	o.keys[key] = st
	o.ready.push(st)
}

// forgetKeyLocked drops a key that has no rows left.
func (o *Outbox) forgetKeyLocked(st *keyState) {
	delete(o.keys, st.key)
	if len(o.keys) == 0 {
		close(o.idle)
	}
}

// requeue puts an active key at the back of the ready queue.
func (o *Outbox) requeue(st *keyState) {
	o.mu.Lock()
	st.phase = phaseReady
	o.ready.push(st)
	o.mu.Unlock()
	o.signal()
}

// finish is called by the worker that found no row for st: the key is
// forgotten unless a row was enqueued meanwhile.
func (o *Outbox) finish(st *keyState) {
	o.mu.Lock()
	if st.notified {
		st.notified = false
		st.phase = phaseReady
		o.ready.push(st)
	} else {
		o.forgetKeyLocked(st)
	}
	o.mu.Unlock()
	o.signal()
}

// backoff parks an active key until due.
func (o *Outbox) backoff(st *keyState, due time.Time) {
	o.mu.Lock()
	st.phase = phaseWaiting
	st.due = due
	heap.Push(&o.waiting, st)
	o.mu.Unlock()
	o.signal()
}

// retryNow makes the given keys ready if they are backing off (their head
// row may be gone).
func (o *Outbox) retryNow(keys []string) {
	if len(keys) == 0 {
		return
	}
	o.mu.Lock()
	for _, k := range keys {
		st := o.keys[k]
		if st == nil || st.phase != phaseWaiting {
			continue
		}
		heap.Remove(&o.waiting, st.index)
		st.phase = phaseReady
		o.ready.push(st)
	}
	o.mu.Unlock()
	o.signal()
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

// resetLocked makes every key ready again (after Run stops, workers may have
// left keys active or waiting).
func (o *Outbox) resetLocked() {
	o.ready = keyQueue{}
	o.waiting = o.waiting[:0]
	for _, st := range o.keys {
		st.phase = phaseReady
		st.index = -1
		st.notified = false
		o.ready.push(st)
	}
}

// keyQueue is a FIFO of keys.
type keyQueue struct {
	items []*keyState
	head  int
}

func (q *keyQueue) push(st *keyState) { q.items = append(q.items, st) }

func (q *keyQueue) len() int { return len(q.items) - q.head }

func (q *keyQueue) pop() *keyState {
	st := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head >= 1024 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return st
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
