package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Run delivers until ctx is done, then stops its workers, writes every
// undelivered delivery to the database and returns. Deliveries loaded from a
// previous process (by NewOutbox) or enqueued before Run are delivered from
// the start. In-flight requests are abandoned on shutdown and their rows
// kept, so they are sent again by the next Run (at least once). Run returns
// nil, or an error if the final write failed (those deliveries are lost
// when the process exits). Only one Run may be active.
func (o *Outbox) Run(ctx context.Context) error {
	o.mu.Lock()
	if o.running {
		o.mu.Unlock()
		return ErrRunning
	}
	o.running = true
	o.mu.Unlock()

	jctx, stopJournal := context.WithCancel(context.Background())
	var jwg sync.WaitGroup
	jwg.Go(func() { o.journal(jctx) })

	work := make(chan *keyState)
	var wg sync.WaitGroup
	for range o.opt.MaxInFlight {
		wg.Go(func() {
			for st := range work {
				o.process(ctx, st)
			}
		})
	}
	o.dispatch(ctx, work)
	close(work)
	wg.Wait()
	stopJournal()
	jwg.Wait()

	o.mu.Lock()
	o.resetLocked()
	o.mu.Unlock()
	// Everything enqueued until now is due. A failed batch is put back, so
	// a second or third try picks up where the first stopped.
	cutoff := time.Now().Add(o.opt.PersistAfter)
	err := o.flush(context.Background(), cutoff)
	for try := 1; err != nil && try < 3; try++ {
		time.Sleep(100 * time.Millisecond)
		err = o.flush(context.Background(), cutoff)
	}
	o.mu.Lock()
	o.running = false
	held := o.held
	o.mu.Unlock()
	if err != nil {
		o.log.Error("outbox: cannot save undelivered events at shutdown; those not saved before are lost",
			"held", held, "err", err)
		return fmt.Errorf("events: saving undelivered events: %w", err)
	}
	return nil
}

// dispatch hands ready keys to workers and promotes keys whose backoff is
// over. It is the only reader of the ready queue.
func (o *Outbox) dispatch(ctx context.Context, work chan<- *keyState) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		o.mu.Lock()
		nextDue := o.promoteDueLocked(o.now())
		var st *keyState
		if o.ready.len() > 0 {
			st = o.ready.pop()
			st.phase = phaseActive
		}
		o.mu.Unlock()

		if st != nil {
			select {
			case work <- st: // blocks while all workers are busy
				continue
			case <-ctx.Done():
				return
			}
		}

		var timerC <-chan time.Time
		if !nextDue.IsZero() {
			timer.Reset(max(nextDue.Sub(o.now()), 0))
			timerC = timer.C
		}
		select {
		case <-o.wake:
		case <-timerC:
		case <-ctx.Done():
			return
		}
		timer.Stop()
	}
}

// process makes one attempt at the head delivery of st's key and decides
// where the key goes next: back to the ready queue (the head is done), to the
// waiting heap (retry later), or away (no rows left).
func (o *Outbox) process(ctx context.Context, st *keyState) {
	o.mu.Lock()
	r := st.rows.peek()
	if r == nil { // its rows were dropped while it waited
		o.forgetKeyLocked(st)
		o.mu.Unlock()
		return
	}
	attempts := r.attempts
	o.mu.Unlock()

	now := o.now()
	switch {
	case !r.expiresAt.IsZero() && !now.Before(r.expiresAt):
		o.stats.expired.Add(1)
		o.logRow(ctx, slog.LevelInfo, r, "outbox: delivery expired before it could be made", "attempts", attempts)
		o.done(st)
		return
	case now.Sub(r.createdAt) > o.opt.MaxAge:
		o.stats.tooOld.Add(1)
		o.logRow(ctx, slog.LevelError, r, "outbox: giving up on delivery", "attempts", attempts, "age", now.Sub(r.createdAt).String())
		o.done(st)
		return
	}

	res := o.attempt(ctx, r, attempts)
	switch res.outcome {
	case outcomeCanceled:
		return // shutting down; Run resets the key
	case outcomeDelivered:
		o.stats.delivered.Add(1)
		o.logRow(ctx, slog.LevelDebug, r, "outbox: delivered", "status", res.status, "attempts", attempts+1)
		o.done(st)
	case outcomeNoResponse:
		o.stats.noResponse.Add(1)
		o.logRow(ctx, slog.LevelWarn, r, "outbox: receiver took the event but did not answer in time; not resending",
			"timeout", o.opt.ResponseTimeout.String())
		o.done(st)
	case outcomeRejected:
		o.stats.rejected.Add(1)
		o.logRow(ctx, slog.LevelWarn, r, "outbox: receiver rejected event; dropped", "status", res.status, "err", res.err)
		o.done(st)
	case outcomeRetry:
		o.stats.retries.Add(1)
		attempts++
		delay := o.opt.Backoff.Delay(attempts)
		if res.retryAfter > delay {
			delay = min(res.retryAfter, o.opt.Backoff.Max)
		}
		if res.reused && attempts == 1 {
			// A kept-alive connection the receiver had closed: try again at
			// once on a fresh one.
			delay = 0
		}
		due := now.Add(delay)
		if !r.expiresAt.IsZero() && due.After(r.expiresAt) {
			due = r.expiresAt
		}
		msg := res.String()
		lvl := slog.LevelDebug
		if attempts == 1 {
			lvl = slog.LevelWarn
		}
		o.logRow(ctx, lvl, r, "outbox: delivery failed; will retry", "attempt", attempts, "err", msg, "retry_in", delay.String())
		o.retry(st, attempts, msg, due)
	}
}

// done takes the head of st, delivered or dropped, out of the queue and
// moves on to the key's next delivery.
func (o *Outbox) done(st *keyState) {
	o.mu.Lock()
	wake := o.nextLocked(st)
	o.mu.Unlock()
	if wake {
		o.signal()
	}
}

// retry records a failed attempt on the head of st and parks the key until
// due, unless the head was dropped (Expire) during the attempt: then the key
// moves on.
func (o *Outbox) retry(st *keyState, attempts int, msg string, due time.Time) {
	o.mu.Lock()
	r := st.rows.peek()
	if r.gone {
		wake := o.nextLocked(st)
		o.mu.Unlock()
		if wake {
			o.signal()
		}
		return
	}
	r.attempts, r.lastErr = attempts, msg
	if r.stored {
		o.j.updates[r.seq] = rowUpdate{attempts: attempts, lastErr: msg}
		o.wakeJournalIfDueLocked()
	}
	o.backoffLocked(st, due)
	o.mu.Unlock()
	o.signal()
}

// logRow logs about one delivery, with its identity, if lvl is enabled (the
// attributes cost allocations on the hot path otherwise).
func (o *Outbox) logRow(ctx context.Context, lvl slog.Level, r *outboxRow, msg string, args ...any) {
	if !o.log.Enabled(ctx, lvl) {
		return
	}
	o.log.With("event_id", r.eventID, "event_type", r.eventType, "url", redactURL(r.url), "order_key", r.key).Log(ctx, lvl, msg, args...)
}
