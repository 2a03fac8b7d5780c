package events

import (
	"context"
	"fmt"
	"time"
)

// The journal writes the in-memory queues behind to the outbox table, in
// batches: one transaction per batch, from one goroutine at a time (jmu).
// Only the journal writes the table while an Outbox runs.
//
//   - A row still undelivered PersistAfter after Enqueue is INSERTed (with
//     its seq, so the table keeps each key's order). Rows delivered or
//     dropped before that are never written.
//   - A row that was written and is then delivered or dropped is DELETEd.
//   - A failed attempt on a written row UPDATEs attempts and last_error
//     (several failures between two batches become one UPDATE).
//
// A row's stored flag is set when a batch takes it for insertion, under
// Outbox.mu, so a removal racing with the batch sees it and queues the
// delete for the next batch; batches run in order, so a delete never
// overtakes its insert. If a batch fails, its work is put back and retried.

const (
	journalInterval = 50 * time.Millisecond
	journalWakeOps  = 512  // queued deletes and updates that start a batch early
	journalTxOps    = 1000 // most statements in one transaction
	journalTimeout  = 30 * time.Second
	// journalErrLogEvery spaces the error logs while the database fails.
	journalErrLogEvery = 10 * time.Second
)

// journalState is the journal's work, guarded by Outbox.mu.
type journalState struct {
	fresh     fifo[*outboxRow] // rows not written yet, in enqueue order (rows since gone are skipped)
	freshKept int              // fresh.len() after the last sweep of gone rows
	redo      []*outboxRow     // rows of a failed batch, to insert first
	deletes   []int64
	updates   map[int64]rowUpdate
}

type rowUpdate struct {
	attempts int
	lastErr  string
}

// insertOp is a row to insert, with its mutable fields as they were when
// the batch was taken.
type insertOp struct {
	r        *outboxRow
	attempts int
	lastErr  string
}

type updateOp struct {
	seq int64
	rowUpdate
}

type journalBatch struct {
	ins  []insertOp
	upd  []updateOp
	del  []int64
	full bool // stopped at journalTxOps: more may be waiting
}

func (b *journalBatch) len() int { return len(b.ins) + len(b.upd) + len(b.del) }

// journal runs batches every journalInterval, or sooner when woken, until
// ctx is done. Run writes the last batch itself. While the database keeps
// failing, it logs the first failure and then one line every
// journalErrLogEvery.
func (o *Outbox) journal(ctx context.Context) {
	t := time.NewTicker(journalInterval)
	defer t.Stop()
	var failingSince, lastLog time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-o.jwake:
		}
		err := o.flush(ctx, time.Now())
		now := time.Now()
		switch {
		case err == nil && !failingSince.IsZero():
			o.log.Info("outbox: journal writes work again", "failed_for", now.Sub(failingSince).String())
			failingSince = time.Time{}
		case err != nil && (failingSince.IsZero() || now.Sub(lastLog) >= journalErrLogEvery):
			if failingSince.IsZero() {
				failingSince = now
			}
			lastLog = now
			o.log.Error("outbox: cannot write undelivered events to the database; will retry", "err", err)
		}
	}
}

// flush writes batches until nothing is left that is due by cutoff: rows
// whose persistAt is not after cutoff, and every queued delete and update.
// Batches run even if ctx is canceled (a half-written journal only costs
// re-sends), but no longer than journalTimeout each. A failed batch is put
// back for the next flush and its error returned (the caller logs it).
func (o *Outbox) flush(ctx context.Context, cutoff time.Time) error {
	o.jmu.Lock()
	defer o.jmu.Unlock()
	for {
		o.mu.Lock()
		b := o.takeBatchLocked(cutoff)
		o.mu.Unlock()
		if b.len() == 0 {
			return nil
		}
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
		err := o.writeBatch(bctx, &b)
		cancel()
		if err != nil {
			o.mu.Lock()
			o.undoLocked(&b)
			o.mu.Unlock()
			o.stats.storeErrs.Add(1)
			return fmt.Errorf("events: outbox journal: %w", err)
		}
		o.stats.persisted.Add(int64(len(b.ins)))
		if !b.full {
			return nil
		}
	}
}

// takeBatchLocked takes up to journalTxOps operations: inserts of rows due
// by cutoff and still undelivered, then updates, then deletes.
func (o *Outbox) takeBatchLocked(cutoff time.Time) journalBatch {
	var b journalBatch
	j := &o.j
	if j.fresh.len() > 2*j.freshKept+4096 {
		// Rows delivered before they were due wait in fresh until then;
		// with a long PersistAfter, let them go sooner (amortised: only
		// when fresh has doubled since the last time).
		j.fresh.keep(func(r *outboxRow) bool { return !r.gone })
		j.freshKept = j.fresh.len()
	}
	take := func(r *outboxRow) {
		if r.gone || r.stored {
			return
		}
		r.stored = true
		b.ins = append(b.ins, insertOp{r: r, attempts: r.attempts, lastErr: r.lastErr})
	}
	for len(j.redo) > 0 && b.len() < journalTxOps {
		take(j.redo[0])
		j.redo = j.redo[1:]
	}
	for j.fresh.len() > 0 && b.len() < journalTxOps && !j.fresh.peek().persistAt.After(cutoff) {
		take(j.fresh.pop())
	}
	for seq, u := range j.updates {
		if b.len() >= journalTxOps {
			break
		}
		b.upd = append(b.upd, updateOp{seq, u})
		delete(j.updates, seq)
	}
	n := min(len(j.deletes), journalTxOps-b.len())
	if n > 0 {
		b.del = append(b.del, j.deletes[:n]...)
		j.deletes = j.deletes[n:]
		if len(j.deletes) == 0 {
			j.deletes = nil
		}
	}
	b.full = b.len() >= journalTxOps
	return b
}

// undoLocked puts the work of a failed batch back.
func (o *Outbox) undoLocked(b *journalBatch) {
	j := &o.j
	for _, op := range b.ins {
		op.r.stored = false
		if !op.r.gone {
			j.redo = append(j.redo, op.r)
		}
	}
	for _, u := range b.upd {
		if _, newer := j.updates[u.seq]; !newer {
			j.updates[u.seq] = u.rowUpdate
		}
	}
	j.deletes = append(j.deletes, b.del...)
}

// wakeJournalIfDueLocked starts a batch early when many deletes or updates
// are queued.
func (o *Outbox) wakeJournalIfDueLocked() {
	if len(o.j.deletes)+len(o.j.updates) < journalWakeOps {
		return
	}
	select {
	case o.jwake <- struct{}{}:
	default:
	}
}
