package events

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	// Body is the rendered event (CloudEvent, EventGridEvent).
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
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// OutboxStats are cumulative counters since NewOutbox.
type OutboxStats struct {
	Enqueued   int64 `json:"enqueued"`   // deliveries persisted
	Attempts   int64 `json:"attempts"`   // HTTP requests started
	Delivered  int64 `json:"delivered"`  // 2xx
	NoResponse int64 `json:"noResponse"` // request written, no answer within ResponseTimeout: counted as delivered
	Retries    int64 `json:"retries"`    // failed attempts that will be retried
	Rejected   int64 `json:"rejected"`   // dropped: final HTTP status (4xx other than 408/429, 3xx) or unusable URL
	Expired    int64 `json:"expired"`    // dropped: past ExpiresAt, or removed by Expire(tag)
	TooOld     int64 `json:"tooOld"`     // dropped: still failing after MaxAge
	StoreErrs  int64 `json:"storeErrs"`  // database errors while delivering
}

type outboxCounters struct {
	enqueued, attempts, delivered, noResponse, retries, rejected, expired, tooOld, storeErrs atomic.Int64
}

// Outbox is a durable at-least-once delivery queue. Create it with NewOutbox,
// call Run once, and Enqueue from anywhere.
type Outbox struct {
	db     *sql.DB
	signer *Signer
	client *http.Client
	log    *slog.Logger
	opt    OutboxOptions
	now    func() time.Time
	stats  outboxCounters

	wake chan struct{} // cap 1: something changed for the dispatcher

	mu      sync.Mutex
	running bool
	keys    map[string]*keyState // every key with (possibly) undelivered rows
	ready   keyQueue             // keys to hand to a worker
	waiting keyHeap              // keys backing off, by due time
	idle    chan struct{}        // closed while keys is empty
}

// NewOutbox returns an Outbox over db (Migrate must have run). signer may be
// nil (no Authorization header: tests and development only). client may be
// nil for a default client; a given client is copied and told not to follow
// redirects, and its Timeout should be zero (the Outbox times requests
// itself). The keys of undelivered rows left by a previous process are
// loaded here, so they are delivered as soon as Run starts.
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
		keys:   make(map[string]*keyState),
		idle:   make(chan struct{}),
	}
	close(o.idle)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys, err := o.loadKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		o.addKeyLocked(k)
	}
	if len(keys) > 0 {
		log.Info("outbox has undelivered events from a previous run", "keys", len(keys))
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

// Enqueue persists d and wakes the delivery workers. When it returns nil the
// delivery survives a restart.
func (o *Outbox) Enqueue(ctx context.Context, d Delivery) error {
	return o.EnqueueBatch(ctx, []Delivery{d})
}

// EnqueueBatch persists ds in one transaction, in order (so deliveries with
// the same OrderKey go out in slice order), and wakes the workers.
func (o *Outbox) EnqueueBatch(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([]outboxRow, len(ds))
	now := o.now()
	for i := range ds {
		r, err := rowFromDelivery(ds[i], now)
		if err != nil {
			return err
		}
		rows[i] = r
	}
	if err := o.insertRows(ctx, rows); err != nil {
		return err
	}
	o.stats.enqueued.Add(int64(len(rows)))
	o.mu.Lock()
	for i := range rows {
		if st := o.keys[rows[i].key]; st != nil {
			// Already known: whoever holds it re-reads the head from the
			// table. notified stops an active worker that just found the
			// key empty from forgetting it.
			st.notified = true
			continue
		}
		o.addKeyLocked(rows[i].key)
	}
	o.mu.Unlock()
	o.signal()
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
// many rows it removed. Keys that were backing off behind a removed delivery
// move on at once. Errors are logged.
func (o *Outbox) Expire(tag string) int {
	if tag == "" {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, n, err := o.deleteWhere(ctx, "tag = ?", tag)
	if err != nil {
		o.stats.storeErrs.Add(1)
		o.log.Error("outbox: expire failed", "tag", tag, "err", err)
		return 0
	}
	o.stats.expired.Add(int64(n))
	o.retryNow(keys)
	if n > 0 {
		o.log.Debug("outbox: expired deliveries", "tag", tag, "count", n)
	}
	return n
}

// dropKeyPrefix removes undelivered rows whose order key starts with prefix
// (used when a subscription is deleted).
func (o *Outbox) dropKeyPrefix(ctx context.Context, prefix string) (int, error) {
	keys, n, err := o.deleteWhere(ctx, "substr(order_key, 1, ?) = ?", len(prefix), prefix)
	if err != nil {
		return 0, err
	}
	o.retryNow(keys)
	return n, nil
}

// Stats returns the counters.
func (o *Outbox) Stats() OutboxStats {
	c := &o.stats
	return OutboxStats{
		Enqueued: c.enqueued.Load(), Attempts: c.attempts.Load(), Delivered: c.delivered.Load(),
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
