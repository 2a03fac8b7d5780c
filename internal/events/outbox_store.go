package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// outboxRow is one row of the outbox table.
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
	createdAt time.Time
	expiresAt time.Time
	attempts  int
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

func (o *Outbox) insertRows(ctx context.Context, rows []outboxRow) (err error) {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("events: enqueue: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO outbox
		(order_key, url, kind, body, event_id, event_type, subscription_name, audience, tag, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("events: enqueue: %w", err)
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err = stmt.ExecContext(ctx, r.key, r.url, r.kind.String(), r.body, r.eventID, r.eventType,
			r.subName, r.audience, r.tag, unixNano(r.createdAt), unixNano(r.expiresAt)); err != nil {
			return fmt.Errorf("events: enqueue: %w", err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("events: enqueue: %w", err)
	}
	return nil
}

// loadKeys returns the keys with undelivered rows, oldest first.
func (o *Outbox) loadKeys(ctx context.Context) ([]string, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT order_key FROM outbox GROUP BY order_key ORDER BY MIN(seq)`)
	if err != nil {
		return nil, fmt.Errorf("events: load outbox: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("events: load outbox: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: load outbox: %w", err)
	}
	return keys, nil
}

// loadHead returns the oldest row of key; ok is false when there is none.
func (o *Outbox) loadHead(ctx context.Context, key string) (r outboxRow, ok bool, err error) {
	var kind string
	var created, expires int64
	err = o.db.QueryRowContext(ctx, `SELECT seq, url, kind, body, event_id, event_type, subscription_name,
		audience, tag, created_at, expires_at, attempts
		FROM outbox WHERE order_key = ? ORDER BY seq LIMIT 1`, key).Scan(
		&r.seq, &r.url, &kind, &r.body, &r.eventID, &r.eventType, &r.subName,
		&r.audience, &r.tag, &created, &expires, &r.attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("events: read outbox: %w", err)
	}
	if r.kind, err = parseKind(kind); err != nil {
		return r, false, err
	}
	r.key = key
	r.createdAt = fromUnixNano(created)
	r.expiresAt = fromUnixNano(expires)
	return r, true, nil
}

// deleteRow removes a delivered or dropped row. It runs even when ctx is
// cancelled: a delivered row left behind would be sent again.
func (o *Outbox) deleteRow(ctx context.Context, seq int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := o.db.ExecContext(ctx, `DELETE FROM outbox WHERE seq = ?`, seq); err != nil {
		return fmt.Errorf("events: delete outbox row: %w", err)
	}
	return nil
}

// noteFailure records a failed attempt on the row (diagnostics, and the
// backoff resumes where it was after a restart).
func (o *Outbox) noteFailure(ctx context.Context, seq int64, attempts int, msg string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := o.db.ExecContext(ctx, `UPDATE outbox SET attempts = ?, last_error = ? WHERE seq = ?`, attempts, msg, seq)
	return err
}

// deleteWhere deletes rows matching cond and returns the distinct order keys
// they had and how many there were.
func (o *Outbox) deleteWhere(ctx context.Context, cond string, args ...any) ([]string, int, error) {
	rows, err := o.db.QueryContext(ctx, `DELETE FROM outbox WHERE `+cond+` RETURNING order_key`, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("events: delete outbox rows: %w", err)
	}
	defer rows.Close()
	seen := make(map[string]bool)
	var keys []string
	n := 0
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, 0, fmt.Errorf("events: delete outbox rows: %w", err)
		}
		n++
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("events: delete outbox rows: %w", err)
	}
	return keys, n, nil
}
