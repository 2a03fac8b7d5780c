package events

import "errors"

var (
	// ErrNotFound means no subscription has the given id.
	ErrNotFound = errors.New("events: subscription not found")
	// ErrInvalid means an argument failed validation; the wrapped message says
	// which field and why. The API layer maps it to HTTP 400.
	ErrInvalid = errors.New("events: invalid argument")
	// ErrConflict means a subscription with that name or id already exists.
	ErrConflict = errors.New("events: subscription already exists")
	// ErrBadValidationCode means ConfirmByURL got a code that is wrong,
	// expired, or for a subscription that is not waiting for validation.
	ErrBadValidationCode = errors.New("events: validation code is wrong or expired")
	// ErrRunning means Run was called while another Run of the same value
	// was still going.
	ErrRunning = errors.New("events: already running")
	// ErrOutboxFull means the Outbox already holds OutboxOptions.MaxPending
	// undelivered deliveries (receivers are down or too slow): the new
	// delivery was not queued and is lost unless the caller keeps it.
	ErrOutboxFull = errors.New("events: outbox is full (too many undelivered events); event dropped")
)
