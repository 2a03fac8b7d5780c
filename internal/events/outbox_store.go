package events

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// outboxRow is one delivery: a row of the outbox table, and the in-memory
// queue entry that is the source of truth while the process runs. The
// delivery fields never change after Enqueue; attempts, lastErr, stored and
// gone are guarded by Outbox.mu.
type outboxRow struct {
	seq       int64
	key       string
	url       string
	kind      Kind
	body      []byte
	eventID   string
	eventType string
	subName   string
	audience  string
	tag       string
	createdAt time.Time // on the Outbox clock (MaxAge)
	expiresAt time.Time
	persistAt time.Time // real clock: when the journal writes it if still undelivered

	attempts int    // failed attempts so far
	lastErr  string // of the last failed attempt
	stored   bool   // in the table (or in the batch writing it): its removal must be journaled
	gone     bool   // delivered or dropped
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// load reads the undelivered rows of a previous process into memory, in seq
// order (so each key keeps its order, and keys are ready oldest first), and
// sets nextSeq past every seq the table has used. It returns the row count.
func (o *Outbox) load(ctx context.Context) (int, error) {
	var last sql.NullInt64
	err := o.db.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = 'outbox'`).Scan(&last)
	if err != nil && err != sql.ErrNoRows {
		return 0, fmt.Errorf("events: load outbox: %w", err)
	}
	o.nextSeq = last.Int64
	rows, err := o.db.QueryContext(ctx, `SELECT seq, order_key, url, kind, body, event_id, event_type,
		subscription_name, audience, tag, created_at, expires_at, attempts FROM outbox ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("events: load outbox: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		r := &outboxRow{stored: true}
		var kind string
		var created, expires int64
		if err := rows.Scan(&r.seq, &r.key, &r.url, &kind, &r.body, &r.eventID, &r.eventType,
			&r.subName, &r.audience, &r.tag, &created, &expires, &r.attempts); err != nil {
			return 0, fmt.Errorf("events: load outbox: %w", err)
		}
		r.createdAt, r.expiresAt = fromUnixNano(created), fromUnixNano(expires)
		o.nextSeq = max(o.nextSeq, r.seq)
		if r.kind, err = parseKind(kind); err != nil {
			o.log.Error("outbox: dropping unreadable row", "seq", r.seq, "err", err)
			o.j.deletes = append(o.j.deletes, r.seq)
			continue
		}
		o.appendLocked(r)
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("events: load outbox: %w", err)
	}
	return n, nil
}

// writeBatch runs b in one transaction: inserts, then updates, then deletes.
func (o *Outbox) writeBatch(ctx context.Context, b *journalBatch) (err error) {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if len(b.ins) > 0 {
		err = execEach(ctx, tx, `INSERT INTO outbox
			(seq, order_key, url, kind, body, event_id, event_type, subscription_name, audience, tag,
			created_at, expires_at, attempts, last_error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, len(b.ins), func(i int) []any {
			op := &b.ins[i]
			r := op.r
			return []any{r.seq, r.key, r.url, r.kind.String(), r.body, r.eventID, r.eventType, r.subName,
				r.audience, r.tag, unixNano(r.createdAt), unixNano(r.expiresAt), op.attempts, op.lastErr}
		})
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	if len(b.upd) > 0 {
		err = execEach(ctx, tx, `UPDATE outbox SET attempts = ?, last_error = ? WHERE seq = ?`, len(b.upd), func(i int) []any {
			u := &b.upd[i]
			return []any{u.attempts, u.lastErr, u.seq}
		})
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
	}
	if len(b.del) > 0 {
		err = execEach(ctx, tx, `DELETE FROM outbox WHERE seq = ?`, len(b.del), func(i int) []any {
			return []any{b.del[i]}
		})
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
	return tx.Commit()
}

// execEach prepares query once and runs it n times with args(i).
func execEach(ctx context.Context, tx *sql.Tx, query string, n int, args func(i int) []any) error {
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range n {
		if _, err := stmt.ExecContext(ctx, args(i)...); err != nil {
			return err
		}
	}
	return nil
}
