package events

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind says how a delivery is framed on the wire.
type Kind uint8

const (
	// KindCloudEvent is a mid-call callback (CloudEvents array) to an app's
	// callback URI, with Authorization: Bearer <jwt>.
	KindCloudEvent Kind = iota
	// KindEventGrid is an Event Grid schema notification to a subscription
	// endpoint: the same bearer token plus aeg-event-type: Notification,
	// aeg-subscription-name, aeg-delivery-count, aeg-data-version and
	// aeg-metadata-version.
	KindEventGrid
)

func (k Kind) String() string {
	switch k {
	case KindCloudEvent:
		return "cloudevent"
	case KindEventGrid:
		return "eventgrid"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

func parseKind(s string) (Kind, error) {
	switch s {
	case "cloudevent":
		return KindCloudEvent, nil
	case "eventgrid":
		return KindEventGrid, nil
	}
	return 0, fmt.Errorf("events: unknown delivery kind %q", s)
}

// Delivery is one HTTP POST of an already rendered event.
type Delivery struct {
	// URL is the receiver, http or https.
	URL string
	// OrderKey groups deliveries that must arrive strictly in enqueue order,
	// one at a time (for example callback URL + call connection id).
	// Different keys are delivered in parallel. Empty means URL.
	OrderKey string
	// Body is the rendered event (CloudEvent, EventGridEvent). The Outbox
	// keeps it (without copying) until delivered: do not modify it after
	// Enqueue. Deliveries may share one Body.
	Body []byte
	Kind Kind
	// EventID and EventType are for logs and diagnostics.
	EventID, EventType string
	// SubscriptionName is sent as aeg-subscription-name (KindEventGrid).
	SubscriptionName string
	// Audience is the token's "aud"; empty means OutboxOptions.Audience.
	Audience string
	// Tag, if set, lets Expire(tag) drop the delivery while it is undelivered
	// (for example an IncomingCall once the call stops ringing).
	Tag string
	// ExpiresAt, if set, is when the delivery stops being worth sending: it
	// is not sent or retried after that.
	ExpiresAt time.Time
}

// OutboxOptions tunes an Outbox. Zero values take the documented defaults.
type OutboxOptions struct {
	// Audience is the "aud" of the bearer tokens: the ACS resource id the
	// server impersonates.
	Audience string
	// Backoff is the retry policy; default DefaultBackoff().
	Backoff Backoff
	// MaxAge bounds how long a delivery is retried after it was enqueued;
	// then it is dropped with an error log. Default 24 h.
	MaxAge time.Duration
	// ConnectTimeout bounds connecting and writing the request; running out
	// counts as a failed attempt (retried). Default 10 s.
	ConnectTimeout time.Duration
	// ResponseTimeout is how long to wait for response headers once the
	// whole request was written. Running out counts the delivery as done:
	// the receiver has the event and is merely slow to answer, and sending
	// it again would stall the call's later events. Default 5 s.
	ResponseTimeout time.Duration
	// MaxInFlight is the number of deliveries (hence keys) in flight at
	// once, and the number of worker goroutines. Default 64.
	MaxInFlight int
	// PersistAfter is how long a delivery lives only in memory: one still
	// undelivered that long after Enqueue is written to the database by the
	// next journal batch (batches run every 50 ms). Deliveries made sooner
	// never touch the database. Default 200 ms; a negative value writes
	// every delivery in the next batch. Measured on the real clock, not Now.
	// See the package documentation for what a crash can lose.
	PersistAfter time.Duration
	// MaxPending bounds the undelivered deliveries held in memory (the
	// in-memory queue is the source of truth, so it also bounds the table).
	// Beyond it Enqueue fails with ErrOutboxFull. Default 1,000,000.
	MaxPending int
	// UserAgent, if set, is sent as User-Agent.
	UserAgent string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o OutboxOptions) withDefaults() OutboxOptions {
	o.Backoff = o.Backoff.orDefault(DefaultBackoff())
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.ResponseTimeout <= 0 {
		o.ResponseTimeout = 5 * time.Second
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 64
	}
	switch {
	case o.PersistAfter == 0:
		o.PersistAfter = 200 * time.Millisecond
	case o.PersistAfter < 0:
		o.PersistAfter = 0
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 1_000_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// OutboxStats are cumulative counters since NewOutbox.
type OutboxStats struct {
	Enqueued   int64 `json:"enqueued"`   // deliveries accepted by Enqueue
	Refused    int64 `json:"refused"`    // deliveries refused because the outbox was full
	Persisted  int64 `json:"persisted"`  // deliveries written to the database (not delivered within PersistAfter)
	Attempts   int64 `json:"attempts"`   // HTTP requests started
	Delivered  int64 `json:"delivered"`  // 2xx
	NoResponse int64 `json:"noResponse"` // request written, no answer within ResponseTimeout: counted as delivered
	Retries    int64 `json:"retries"`    // failed attempts that will be retried
	Rejected   int64 `json:"rejected"`   // dropped: final HTTP status (4xx other than 408/429, 3xx) or unusable URL
	Expired    int64 `json:"expired"`    // dropped: past ExpiresAt, or removed by Expire(tag)
	TooOld     int64 `json:"tooOld"`     // dropped: still failing after MaxAge
	StoreErrs  int64 `json:"storeErrs"`  // journal batches the database refused (retried in the next batch)
}

type outboxCounters struct {
	enqueued, refused, persisted, attempts, delivered, noResponse, retries, rejected, expired, tooOld, storeErrs atomic.Int64
}

// Outbox is an at-least-once delivery queue held in memory and written
// behind to SQLite (see the package documentation). Create it with
// NewOutbox, call Run, and Enqueue from anywhere.
type Outbox struct {
	db     *sql.DB
	signer *Signer
	client *http.Client
	log    *slog.Logger
	opt    OutboxOptions
	now    func() time.Time
	stats  outboxCounters

	wake  chan struct{} // cap 1: something changed for the dispatcher
	jwake chan struct{} // cap 1: the journal has a batch worth writing now
	jmu   sync.Mutex    // serialises journal batches (build + write)

	mu      sync.Mutex
	running bool
	keys    map[string]*keyState // every key with undelivered rows (or a worker on it)
	ready   fifo[*keyState]      // keys to hand to a worker
	waiting keyHeap              // keys backing off, by due time
	idle    chan struct{}        // closed while keys is empty
	held    int                  // undelivered rows in memory (bounded by MaxPending)
	nextSeq int64                // seq of the last row enqueued or loaded
	tags    map[string][]*outboxRow
	j       journalState
	full    fullLog
}

// NewOutbox returns an Outbox over db (Migrate must have run). signer may be
// nil (no Authorization header: tests and development only). client may be
// nil for a default client; a given client is copied and told not to follow
// redirects, and its Timeout should be zero (the Outbox times requests
// itself). The undelivered rows left by a previous process are loaded into
// memory here, in order, so they are delivered as soon as Run starts.
func NewOutbox(db *sql.DB, signer *Signer, client *http.Client, log *slog.Logger, opt OutboxOptions) (*Outbox, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil db", ErrInvalid)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt = opt.withDefaults()
	o := &Outbox{
		db:     db,
		signer: signer,
		client: deliveryClient(client, opt.MaxInFlight),
		log:    log,
		opt:    opt,
		now:    opt.Now,
		wake:   make(chan struct{}, 1),
		jwake:  make(chan struct{}, 1),
		keys:   make(map[string]*keyState),
		idle:   make(chan struct{}),
		tags:   make(map[string][]*outboxRow),
		j:      journalState{updates: make(map[int64]rowUpdate)},
	}
	close(o.idle)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := o.load(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("outbox has undelivered events from a previous run", "events", n, "keys", len(o.keys))
	}
	if n > opt.MaxPending {
		log.Warn("outbox loaded more events than MaxPending; new events are refused until it drains",
			"events", n, "max_pending", opt.MaxPending)
	}
	return o, nil
}

// deliveryClient copies c (or builds a default) and stops it following
// redirects: a 3xx is a final answer.
func deliveryClient(c *http.Client, maxInFlight int) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = maxInFlight
		out.Transport = tr
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// Enqueue validates d and queues it in memory for delivery, without
// touching the database, and wakes the delivery workers.
//
// Durability is write-behind (see the package documentation): d is written
// to the database only if it is still undelivered PersistAfter later (or
// when Run stops). A clean stop (Run's context canceled, Run returned) keeps
// every undelivered delivery for the next start; a crash loses those
// enqueued in the last PersistAfter + 50 ms and not yet delivered.
//
// If MaxPending deliveries are already held, Enqueue returns ErrOutboxFull
// (and logs it); the caller drops the event.
func (o *Outbox) Enqueue(ctx context.Context, d Delivery) error {
	return o.EnqueueBatch(ctx, []Delivery{d})
}

// EnqueueBatch queues ds, all or none, in order (so deliveries with the same
// OrderKey go out in slice order), with the durability of Enqueue. It
// returns ErrInvalid if a delivery is malformed and ErrOutboxFull if the
// batch does not fit under MaxPending. ctx is not used: nothing blocks.
func (o *Outbox) EnqueueBatch(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([]outboxRow, len(ds))
	now, mono := o.now(), time.Now()
	persistAt := mono.Add(o.opt.PersistAfter)
	for i := range ds {
		r, err := rowFromDelivery(ds[i], now)
		if err != nil {
			return err
		}
		r.persistAt = persistAt
		rows[i] = r
	}
	o.mu.Lock()
	if o.held+len(rows) > o.opt.MaxPending {
		logNow, refused := o.full.note(len(rows), mono)
		held := o.held
		o.mu.Unlock()
		o.stats.refused.Add(int64(len(rows)))
		if logNow {
			o.log.Error("outbox is full; refusing new events until deliveries catch up",
				"held", held, "max_pending", o.opt.MaxPending, "refused", refused)
		}
		return ErrOutboxFull
	}
	woke := false
	for i := range rows {
		o.nextSeq++
		rows[i].seq = o.nextSeq
		woke = o.appendLocked(&rows[i]) || woke
	}
	o.mu.Unlock()
	o.stats.enqueued.Add(int64(len(rows)))
	if woke {
		o.signal()
	}
	return nil
}

func rowFromDelivery(d Delivery, now time.Time) (outboxRow, error) {
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return outboxRow{}, fmt.Errorf("%w: delivery URL %q must be an absolute http or https URL", ErrInvalid, d.URL)
	}
	if len(d.Body) == 0 {
		return outboxRow{}, fmt.Errorf("%w: empty delivery body", ErrInvalid)
	}
	if d.Kind != KindCloudEvent && d.Kind != KindEventGrid {
		return outboxRow{}, fmt.Errorf("%w: delivery kind %v", ErrInvalid, d.Kind)
	}
	key := d.OrderKey
	if key == "" {
		key = d.URL
	}
	return outboxRow{
		key:       key,
		url:       d.URL,
		kind:      d.Kind,
		body:      d.Body,
		eventID:   d.EventID,
		eventType: d.EventType,
		subName:   d.SubscriptionName,
		audience:  d.Audience,
		tag:       d.Tag,
		createdAt: now,
		expiresAt: d.ExpiresAt,
	}, nil
}

// Expire drops every undelivered delivery tagged tag (a delivery already in
// flight finishes its current attempt but is not retried) and returns how
// many it removed. A key that was backing off behind a removed delivery
// moves on at once. It does not wait for the database: rows already
// written are deleted by the next journal batch.
func (o *Outbox) Expire(tag string) int {
	if tag == "" {
		return 0
	}
	o.mu.Lock()
	rows := o.tags[tag]
	delete(o.tags, tag)
	for _, r := range rows {
		o.dropRowLocked(r)
	}
	o.mu.Unlock()
	n := len(rows)
	if n > 0 {
		o.stats.expired.Add(int64(n))
		o.signal()
		o.log.Debug("outbox: expired deliveries", "tag", tag, "count", n)
	}
	return n
}

// dropKeyPrefix removes undelivered rows whose order key starts with prefix
// (used when a subscription is deleted) and writes the removal to the
// database before it returns.
func (o *Outbox) dropKeyPrefix(ctx context.Context, prefix string) (int, error) {
	n := 0
	o.mu.Lock()
	for k, st := range o.keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		for _, r := range slices.Clone(st.rows.live()) {
			if !r.gone {
				o.dropRowLocked(r)
				n++
			}
		}
	}
	o.mu.Unlock()
	o.signal()
	return n, o.flush(ctx, time.Now())
}

// Stats returns the counters.
func (o *Outbox) Stats() OutboxStats {
	c := &o.stats
	return OutboxStats{
		Enqueued: c.enqueued.Load(), Refused: c.refused.Load(), Persisted: c.persisted.Load(),
		Attempts: c.attempts.Load(), Delivered: c.delivered.Load(),
		NoResponse: c.noResponse.Load(), Retries: c.retries.Load(), Rejected: c.rejected.Load(),
		Expired: c.expired.Load(), TooOld: c.tooOld.Load(), StoreErrs: c.storeErrs.Load(),
	}
}

// Pending is the number of keys with deliveries still to make.
func (o *Outbox) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.keys)
}

// WaitIdle blocks until every delivery this Outbox knows of is delivered or
// dropped, or ctx is done. Shutdown uses it to flush against a deadline.
// Idle says nothing about the database: the deletes of delivered rows that
// had been written are made by the journal shortly after (or by Run's exit).
func (o *Outbox) WaitIdle(ctx context.Context) error {
	for {
		o.mu.Lock()
		ch := o.idle
		o.mu.Unlock()
		select {
		case <-ch:
			o.mu.Lock()
			empty := len(o.keys) == 0
			o.mu.Unlock()
			if empty {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (o *Outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}
