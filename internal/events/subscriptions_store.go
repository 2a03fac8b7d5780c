package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

func (s *Subscriptions) loadSubs(ctx context.Context) ([]*subEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, endpoint_url, event_types, to_filter, state, source,
		validation_code, validation_expires, last_error, created_at, updated_at FROM event_subscriptions`)
	if err != nil {
		return nil, fmt.Errorf("events: load subscriptions: %w", err)
	}
	defer rows.Close()
	var out []*subEntry
	for rows.Next() {
		var e subEntry
		var types, to, state string
		var codeExp, created, updated int64
		if err := rows.Scan(&e.sub.ID, &e.sub.Name, &e.sub.EndpointURL, &types, &to, &state, &e.sub.Source,
			&e.code, &codeExp, &e.sub.LastError, &created, &updated); err != nil {
			return nil, fmt.Errorf("events: load subscriptions: %w", err)
		}
		var err1, err2 error
		e.sub.EventTypes, err1 = decodeStringList(types)
		e.sub.To, err2 = decodeStringList(to)
		if err1 != nil || err2 != nil {
			s.log.Error("skipping event subscription with a corrupt filter", "id", e.sub.ID, "name", e.sub.Name)
			continue
		}
		switch st := SubscriptionState(state); st {
		case StatePending, StateActive, StateFailed:
			e.sub.State = st
		default:
			s.log.Error("event subscription has an unknown state; revalidating", "id", e.sub.ID, "state", state)
			e.sub.State = StatePending
		}
		e.codeExpires = fromUnixNano(codeExp)
		e.sub.CreatedAt = fromUnixNano(created)
		e.sub.UpdatedAt = fromUnixNano(updated)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: load subscriptions: %w", err)
	}
	return out, nil
}

// decodeStringList decodes a JSON array of strings; "" and "null" are empty.
func decodeStringList(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func encodeStringList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := marshalJSON(l) // strings always marshal
	return string(b)
}

// saveSub inserts or replaces e by id.
func (s *Subscriptions) saveSub(ctx context.Context, e *subEntry) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO event_subscriptions
		(id, name, endpoint_url, event_types, to_filter, state, source, validation_code, validation_expires,
		 last_error, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET
		 name = excluded.name, endpoint_url = excluded.endpoint_url, event_types = excluded.event_types,
		 to_filter = excluded.to_filter, state = excluded.state, source = excluded.source,
		 validation_code = excluded.validation_code, validation_expires = excluded.validation_expires,
		 last_error = excluded.last_error, updated_at = excluded.updated_at`,
		e.sub.ID, e.sub.Name, e.sub.EndpointURL, encodeStringList(e.sub.EventTypes), encodeStringList(e.sub.To),
		string(e.sub.State), e.sub.Source, e.code, unixNano(e.codeExpires), e.sub.LastError,
		unixNano(e.sub.CreatedAt), unixNano(e.sub.UpdatedAt))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("%w: %v", ErrConflict, err)
		}
		return fmt.Errorf("events: save subscription: %w", err)
	}
	return nil
}

func (s *Subscriptions) deleteSub(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM event_subscriptions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("events: delete subscription: %w", err)
	}
	return nil
}
