package api

import (
	"net/http"
	"sync"
	"time"
)

// idempotency remembers the result of POSTs that carry a
// Repeatability-Request-ID, so that an SDK retry of the same request gets the
// first result instead of acting twice. A duplicate that arrives while the
// first is still running waits for it.
type idempotency struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*idemEntry
	order   []string // insertion order, for expiry
}

type idemEntry struct {
	done   chan struct{}
	status int
	header http.Header
	body   []byte
	at     time.Time
}

func newIdempotency(ttl time.Duration, max int, now func() time.Time) *idempotency {
	return &idempotency{ttl: ttl, max: max, now: now, entries: map[string]*idemEntry{}}
}

// begin returns the entry for key. first is true when the caller must run the
// request and then call finish; otherwise it waits on entry.done and replays.
func (d *idempotency) begin(key string) (e *idemEntry, first bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expireLocked()
	if e, ok := d.entries[key]; ok {
		return e, false
	}
	e = &idemEntry{done: make(chan struct{}), at: d.now()}
	d.entries[key] = e
	d.order = append(d.order, key)
	return e, true
}

// finish records the result; a failed request (5xx) is forgotten so that a
// retry runs again.
func (d *idempotency) finish(key string, e *idemEntry, status int, header http.Header, body []byte) {
	e.status, e.header, e.body = status, header, body
	close(e.done)
	if status >= 500 {
		d.mu.Lock()
		delete(d.entries, key)
		d.mu.Unlock()
	}
}

func (d *idempotency) expireLocked() {
	now := d.now()
	i := 0
	for ; i < len(d.order); i++ {
		e, ok := d.entries[d.order[i]]
		if ok && now.Sub(e.at) < d.ttl && len(d.order)-i <= d.max {
			break
		}
		if ok {
			select {
			case <-e.done:
				delete(d.entries, d.order[i])
			default:
				// Still running: keep it, stop expiring here.
				goto out
			}
		}
	}
out:
	d.order = d.order[i:]
}
