package store

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ErrRecordQueueFull is returned when call records arrive faster than the
// database takes them and the writer's queue is full.
var ErrRecordQueueFull = errors.New("store: call record queue is full")

// RecordWriter saves call records in batches on a goroutine of its own, so
// that a call ending never waits for the database.
type RecordWriter struct {
	s     *Store
	log   *slog.Logger
	in    chan CallRecord
	every time.Duration
}

// NewRecordWriter returns a writer holding up to capacity records not yet
// written; Run writes them.
func (s *Store) NewRecordWriter(log *slog.Logger, capacity int) *RecordWriter {
	return &RecordWriter{s: s, log: log, in: make(chan CallRecord, capacity), every: 100 * time.Millisecond}
}

// SaveCallRecord queues r for the next batch. It never blocks: a full queue
// gives ErrRecordQueueFull.
func (w *RecordWriter) SaveCallRecord(_ context.Context, r CallRecord) error {
	select {
	case w.in <- r:
		return nil
	default:
		return ErrRecordQueueFull
	}
}

// Run writes queued records every 100 ms (or when 256 are waiting) until ctx
// ends, then writes what is left and returns.
func (w *RecordWriter) Run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	batch := make([]CallRecord, 0, 256)
	for {
		select {
		case r := <-w.in:
			if batch = append(batch, r); len(batch) == cap(batch) {
				batch = w.write(batch)
			}
		case <-t.C:
			batch = w.write(batch)
		case <-ctx.Done():
			for {
				select {
				case r := <-w.in:
					batch = append(batch, r)
				default:
					w.write(batch)
					return nil
				}
			}
		}
	}
}

// write saves batch and returns it emptied.
func (w *RecordWriter) write(batch []CallRecord) []CallRecord {
	if len(batch) == 0 {
		return batch
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.s.SaveCallRecords(ctx, batch); err != nil {
		w.log.Error("saving call records failed", "records", len(batch), "error", err)
	}
	return batch[:0]
}
