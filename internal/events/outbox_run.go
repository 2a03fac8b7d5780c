package events

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Run delivers until ctx is done, then waits for its workers and returns
// nil. Keys with undelivered rows (including rows left by a previous
// process, loaded by NewOutbox) are delivered from the start. In-flight
// requests are abandoned on shutdown and their rows kept, so they are sent
// again by the next Run (at least once). Only one Run may be active.
func (o *Outbox) Run(ctx context.Context) error {
	o.mu.Lock()
	if o.running {
		o.mu.Unlock()
		return ErrRunning
	}
	o.running = true
	o.mu.Unlock()

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

	o.mu.Lock()
	o.resetLocked()
	o.running = false
	o.mu.Unlock()
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
	st.notified = false
	o.mu.Unlock()

	r, ok, err := o.loadHead(ctx, st.key)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		o.stats.storeErrs.Add(1)
		o.log.Error("outbox: cannot read next delivery", "order_key", st.key, "err", err)
		o.backoff(st, o.now().Add(o.opt.Backoff.Max))
		return
	}
	if !ok {
		o.finish(st)
		return
	}
	log := o.log.With("event_id", r.eventID, "event_type", r.eventType, "url", redactURL(r.url), "order_key", r.key)

	if r.seq == st.delivered {
		// Sent successfully before, but its row survived: only delete it.
		o.complete(ctx, st, r.seq, log)
		return
	}
	if r.seq != st.headSeq {
		st.headSeq, st.attempts = r.seq, r.attempts
	}

	now := o.now()
	switch {
	case !r.expiresAt.IsZero() && !now.Before(r.expiresAt):
		o.stats.expired.Add(1)
		log.Info("outbox: delivery expired before it could be made", "attempts", st.attempts)
		o.drop(ctx, st, r.seq, log)
		return
	case now.Sub(r.createdAt) > o.opt.MaxAge:
		o.stats.tooOld.Add(1)
		log.Error("outbox: giving up on delivery", "attempts", st.attempts, "age", now.Sub(r.createdAt).String())
		o.drop(ctx, st, r.seq, log)
		return
	}

	res := o.attempt(ctx, &r, st.attempts)
	switch res.outcome {
	case outcomeCanceled:
		return // shutting down; Run resets the key
	case outcomeDelivered:
		o.stats.delivered.Add(1)
		log.Debug("outbox: delivered", "status", res.status, "attempts", st.attempts+1)
		st.delivered = r.seq
		o.complete(ctx, st, r.seq, log)
	case outcomeNoResponse:
		o.stats.noResponse.Add(1)
		log.Warn("outbox: receiver took the event but did not answer in time; not resending",
			"timeout", o.opt.ResponseTimeout.String())
		st.delivered = r.seq
		o.complete(ctx, st, r.seq, log)
	case outcomeRejected:
		o.stats.rejected.Add(1)
		log.Warn("outbox: receiver rejected event; dropped", "status", res.status, "err", res.err)
		o.drop(ctx, st, r.seq, log)
	case outcomeRetry:
		o.stats.retries.Add(1)
		st.attempts++
		delay := o.opt.Backoff.Delay(st.attempts)
		if res.retryAfter > delay {
			delay = min(res.retryAfter, o.opt.Backoff.Max)
		}
		if res.reused && st.attempts == 1 {
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
		if st.attempts == 1 {
			lvl = slog.LevelWarn
		}
		log.Log(ctx, lvl, "outbox: delivery failed; will retry", "attempt", st.attempts, "err", msg, "retry_in", delay.String())
		if err := o.noteFailure(ctx, r.seq, st.attempts, msg); err != nil {
			o.stats.storeErrs.Add(1)
			log.Debug("outbox: cannot record failed attempt", "err", err)
		}
		o.backoff(st, due)
	}
}

// complete deletes a delivered row and moves on to the key's next delivery.
// If the delete fails, st.delivered keeps the row from being sent again.
func (o *Outbox) complete(ctx context.Context, st *keyState, seq int64, log *slog.Logger) {
	if err := o.deleteRow(ctx, seq); err != nil {
		o.stats.storeErrs.Add(1)
		log.Error("outbox: cannot delete delivered row", "err", err)
		o.backoff(st, o.now().Add(o.opt.Backoff.Initial))
		return
	}
	st.delivered = 0
	o.requeue(st)
}

// drop deletes a row that will never be delivered and moves on.
func (o *Outbox) drop(ctx context.Context, st *keyState, seq int64, log *slog.Logger) {
	st.delivered = seq // same bookkeeping: never send it
	o.complete(ctx, st, seq, log)
}
