package events

import (
	"container/heap"
	"slices"
	"time"
)

// This file holds the in-memory queues: while the process runs they are the
// source of truth, and the table only mirrors them (see outbox_journal.go).
// Everything here needs Outbox.mu (or an Outbox not yet shared).

// appendLocked adds r at the tail of its key's queue, creating the key if
// needed, and reports whether a new key became ready (the dispatcher must be
// woken). A row that is not stored yet also goes to the journal.
func (o *Outbox) appendLocked(r *outboxRow) (newKey bool) {
	st := o.keys[r.key]
	if st == nil {
		st = o.addKeyLocked(r.key)
		newKey = true
	}
	st.rows.push(r)
	o.held++
	if r.tag != "" {
		o.tags[r.tag] = append(o.tags[r.tag], r)
	}
	if !r.stored {
		o.j.fresh.push(r)
	}
	return newKey
}

// removeLocked accounts for r leaving the queue (delivered or dropped): it
// no longer counts towards MaxPending, Expire no longer finds it, and if it
// was written to the table the journal deletes it. The caller takes r out of
// its key's queue (or leaves that to the worker holding it).
func (o *Outbox) removeLocked(r *outboxRow) {
	if r.gone {
		return
	}
	r.gone = true
	o.held--
	if r.tag != "" {
		o.untagLocked(r)
	}
	if r.stored {
		o.j.deletes = append(o.j.deletes, r.seq)
		delete(o.j.updates, r.seq)
		o.wakeJournalIfDueLocked()
	}
}

func (o *Outbox) untagLocked(r *outboxRow) {
	rs := o.tags[r.tag]
	if i := slices.Index(rs, r); i >= 0 {
		rs = slices.Delete(rs, i, i+1)
	}
	if len(rs) == 0 {
		delete(o.tags, r.tag)
	} else {
		o.tags[r.tag] = rs
	}
}

// dropRowLocked removes an undelivered row on request (Expire, a deleted
// subscription). The head of a key a worker holds stays in the queue, marked
// gone: its attempt finishes, and the worker then moves on instead of
// retrying. A key backing off behind a removed head becomes ready.
func (o *Outbox) dropRowLocked(r *outboxRow) {
	o.removeLocked(r)
	st := o.keys[r.key]
	if st == nil || st.phase == phaseActive && st.rows.peek() == r {
		return
	}
	wasHead := st.rows.peek() == r
	st.rows.removeItem(r)
	if wasHead && st.phase == phaseWaiting {
		heap.Remove(&o.waiting, st.index)
		st.phase = phaseReady
		o.ready.push(st)
	}
}

// fullLog rate-limits the "outbox is full" error log: the first refusal is
// logged, then at most one line (with the count) every fullLogEvery.
type fullLog struct {
	last    time.Time
	refused int
}

const fullLogEvery = 10 * time.Second

func (f *fullLog) note(n int, now time.Time) (logNow bool, refused int) {
	f.refused += n
	if !f.last.IsZero() && now.Sub(f.last) < fullLogEvery {
		return false, 0
	}
	f.last = now
	refused, f.refused = f.refused, 0
	return true, refused
}
