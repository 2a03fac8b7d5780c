package events

import (
	"context"
	"database/sql"
	"fmt"
)

// schema is applied by Migrate. Times are Unix nanoseconds (UTC); 0 means
// "not set".
var schema = []string{
	// One row per undelivered delivery. seq gives the enqueue order; a key's
	// deliveries go out in seq order. Rows are deleted once delivered or
	// dropped.
	`CREATE TABLE IF NOT EXISTS outbox (
		seq               INTEGER PRIMARY KEY AUTOINCREMENT,
		order_key         TEXT    NOT NULL,
		url               TEXT    NOT NULL,
		kind              TEXT    NOT NULL,
		body              BLOB    NOT NULL,
		event_id          TEXT    NOT NULL DEFAULT '',
		event_type        TEXT    NOT NULL DEFAULT '',
		subscription_name TEXT    NOT NULL DEFAULT '',
		audience          TEXT    NOT NULL DEFAULT '',
		tag               TEXT    NOT NULL DEFAULT '',
		created_at        INTEGER NOT NULL,
		expires_at        INTEGER NOT NULL DEFAULT 0,
		attempts          INTEGER NOT NULL DEFAULT 0,
		last_error        TEXT    NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX IF NOT EXISTS outbox_order_key_seq ON outbox (order_key, seq)`,
	`CREATE INDEX IF NOT EXISTS outbox_tag ON outbox (tag) WHERE tag <> ''`,
	// Event Grid style webhook subscriptions. event_types and to_filter are
	// JSON arrays of strings ('[]' = any).
	`CREATE TABLE IF NOT EXISTS event_subscriptions (
		id                  TEXT    PRIMARY KEY,
		name                TEXT    NOT NULL UNIQUE,
		endpoint_url        TEXT    NOT NULL,
		event_types         TEXT    NOT NULL DEFAULT '[]',
		to_filter           TEXT    NOT NULL DEFAULT '[]',
		state               TEXT    NOT NULL,
		source              TEXT    NOT NULL,
		validation_code     TEXT    NOT NULL DEFAULT '',
		validation_expires  INTEGER NOT NULL DEFAULT 0,
		last_error          TEXT    NOT NULL DEFAULT '',
		created_at          INTEGER NOT NULL,
		updated_at          INTEGER NOT NULL
	)`,
}

// Migrate creates this package's tables and indexes if they do not exist.
// It is idempotent and safe to run at every start.
func Migrate(ctx context.Context, db *sql.DB) error {
	for _, stmt := range schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("events: migrate: %w", err)
		}
	}
	return nil
}
