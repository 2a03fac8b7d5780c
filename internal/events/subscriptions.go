package events

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// SubscriptionState is where a subscription is in its life.
type SubscriptionState string

const (
	// StatePending: the validation handshake has not succeeded yet; the
	// subscription receives no events.
	StatePending SubscriptionState = "pending"
	// StateActive: validated; matching events are delivered.
	StateActive SubscriptionState = "active"
	// StateFailed: the endpoint refused validation (final 4xx, wrong code, or
	// the validation URL was not called in time). Revalidate, or for config
	// subscriptions a restart, tries again.
	StateFailed SubscriptionState = "failed"
)

// Subscription sources.
const (
	SourceConfig = "config" // from the configuration file, reconciled at startup
	SourceAPI    = "api"    // created through the admin API
)

// ValidationPathPrefix is the path under the server's base URL where the
// API layer serves validation URL calls: GET
// <ValidationPathPrefix><id>/validate?code=<code> → ConfirmByURL(id, code).
const ValidationPathPrefix = "/admin/v1/eventSubscriptions/"

// Subscription is an Event Grid style webhook subscription.
type Subscription struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	EndpointURL string `json:"endpointUrl"`
	// EventTypes are qualified event types
	// ("Microsoft.Communication.IncomingCall"); short names are qualified on
	// save. Empty means every type. Matching ignores case.
	EventTypes []string `json:"eventTypes,omitempty"`
	// To are raw ids ("4:+14255550123", "8:acs:…"); an event matches when
	// its to.rawId is one of them. Empty means any.
	To        []string          `json:"to,omitempty"`
	State     SubscriptionState `json:"state"`
	Source    string            `json:"source"`
	LastError string            `json:"lastError,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

// Matches reports whether an event of eventType (short or qualified) whose
// data.to.rawId is toRawID passes the subscription's filters. State is not
// considered. An event without a to (toRawID "") never matches a
// subscription with a To filter.
func (s Subscription) Matches(eventType, toRawID string) bool {
	qt := QualifiedEventType(eventType)
	if len(s.EventTypes) > 0 && !slices.ContainsFunc(s.EventTypes, func(t string) bool { return strings.EqualFold(t, qt) }) {
		return false
	}
	if len(s.To) > 0 && !slices.Contains(s.To, toRawID) {
		return false
	}
	return true
}

func (s Subscription) clone() Subscription {
	s.EventTypes = slices.Clone(s.EventTypes)
	s.To = slices.Clone(s.To)
	return s
}

// Event is what Publish sends to subscriptions.
type Event struct {
	// Type is the event type, short ("IncomingCall") or qualified.
	Type string
	// Subject is the Event Grid subject, e.g. "/caller/<id>/recipient/<id>".
	Subject string
	// ToRawID is the event's data.to.rawId (for IncomingCall the called
	// identity); subscriptions with a To filter match on it. For lifecycle
	// events pass the call's called identity so filtered subscriptions get
	// them too.
	ToRawID string
	// Data is the event data, marshalled as given.
	Data any
	// OrderKey orders deliveries per subscription: a subscription's events
	// with the same OrderKey (e.g. the serverCallId) arrive in publish order.
	OrderKey string
	// Tag and ExpiresAt are passed to the Outbox (see Delivery).
	Tag       string
	ExpiresAt time.Time
}

// SubscriptionsOptions configures Subscriptions. Zero values take the
// documented defaults.
type SubscriptionsOptions struct {
	// Topic is the Event Grid topic of every event: the ACS resource path
	// "/subscriptions/…/providers/Microsoft.Communication/communicationServices/<name>".
	Topic string
	// BaseURL is this server's public base URL, used to build validation
	// URLs (BaseURL + ValidationPathPrefix + id + "/validate?code=…").
	BaseURL string
	// Backoff is the handshake retry policy while the endpoint is
	// unreachable or failing; default 1 s doubling to 5 min, 20 % jitter.
	Backoff Backoff
	// HandshakeTimeout bounds one validation POST; default 30 s.
	HandshakeTimeout time.Duration
	// CodeValidity is how long a validation code (and URL) stays valid;
	// default 10 min.
	CodeValidity time.Duration
	// MaxConcurrentHandshakes bounds handshakes in flight; default 4.
	MaxConcurrentHandshakes int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o SubscriptionsOptions) withDefaults() SubscriptionsOptions {
	o.Backoff = o.Backoff.orDefault(Backoff{Initial: time.Second, Max: 5 * time.Minute, Jitter: 0.2})
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 30 * time.Second
	}
	if o.CodeValidity <= 0 {
		o.CodeValidity = 10 * time.Minute
	}
	if o.MaxConcurrentHandshakes <= 0 {
		o.MaxConcurrentHandshakes = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return o
}

// SubscriptionsStats are cumulative counters.
type SubscriptionsStats struct {
	Published        int64 // events that matched at least one active subscription
	Deliveries       int64 // deliveries enqueued for them
	HandshakesSent   int64 // validation POSTs started
	Validated        int64 // activated by a validationResponse
	ConfirmedByURL   int64 // activated through the validation URL
	HandshakesFailed int64 // subscriptions marked failed
}

type subsCounters struct {
	published, deliveries, sent, validated, confirmed, failed atomic.Int64
}

// Subscriptions stores webhook subscriptions, validates their endpoints and
// fans events out to them through the Outbox.
type Subscriptions struct {
	db     *sql.DB
	outbox *Outbox
	client *http.Client
	log    *slog.Logger
	opt    SubscriptionsOptions
	now    func() time.Time
	stats  subsCounters
	wake   chan struct{}

	// writeMu serialises mutations (database write + cache update); it is
	// taken before mu, never after.
	writeMu sync.Mutex

	mu      sync.Mutex // guards the fields below; never held during I/O
	subs    map[string]*subEntry
	byName  map[string]string // name → id
	sched   map[string]*handshakeState
	running bool
}

// subEntry is a cached subscription with its current validation code.
// Entries are replaced, never modified in place.
type subEntry struct {
	sub         Subscription
	code        string
	codeExpires time.Time
}

// handshakeState schedules the validation of one pending subscription.
type handshakeState struct {
	due         time.Time
	attempts    int
	inflight    bool
	awaitingURL bool // endpoint answered without the code: wait for ConfirmByURL until due
}

// NewSubscriptions loads the subscriptions in db (Migrate must have run) and
// schedules handshakes for pending ones (they run in Run). client may be nil.
func NewSubscriptions(db *sql.DB, outbox *Outbox, client *http.Client, log *slog.Logger, opt SubscriptionsOptions) (*Subscriptions, error) {
	if db == nil || outbox == nil {
		return nil, fmt.Errorf("%w: NewSubscriptions needs a db and an outbox", ErrInvalid)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt = opt.withDefaults()
	if opt.BaseURL == "" {
		log.Warn("event subscriptions: no base URL; validation URLs will be relative")
	}
	s := &Subscriptions{
		db:     db,
		outbox: outbox,
		client: deliveryClient(client, opt.MaxConcurrentHandshakes),
		log:    log,
		opt:    opt,
		now:    opt.Now,
		wake:   make(chan struct{}, 1),
		subs:   make(map[string]*subEntry),
		byName: make(map[string]string),
		sched:  make(map[string]*handshakeState),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	entries, err := s.loadSubs(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, e := range entries {
		s.subs[e.sub.ID] = e
		s.byName[e.sub.Name] = e.sub.ID
		if e.sub.State == StatePending {
			s.sched[e.sub.ID] = &handshakeState{due: now}
		}
	}
	return s, nil
}

// ValidationURL is the URL sent as data.validationUrl for subscription id.
func (s *Subscriptions) ValidationURL(id, code string) string {
	return s.opt.BaseURL + ValidationPathPrefix + url.PathEscape(id) + "/validate?code=" + url.QueryEscape(code)
}

// List returns every subscription, oldest first.
func (s *Subscriptions) List(ctx context.Context) ([]Subscription, error) {
	s.mu.Lock()
	out := make([]Subscription, 0, len(s.subs))
	for _, e := range s.subs {
		out = append(out, e.sub.clone())
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Get returns the subscription with the given id, or ErrNotFound.
func (s *Subscriptions) Get(ctx context.Context, id string) (Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.subs[id]
	if e == nil {
		return Subscription{}, ErrNotFound
	}
	return e.sub.clone(), nil
}

// Create validates sub, stores it as pending (source "api" unless set) and
// schedules its validation handshake. An empty ID gets a new UUID. It
// returns the stored subscription; ErrInvalid or ErrConflict on bad input.
func (s *Subscriptions) Create(ctx context.Context, sub Subscription) (Subscription, error) {
	sub, err := normalizeSubscription(sub, SourceAPI)
	if err != nil {
		return Subscription{}, err
	}
	if sub.ID == "" {
		sub.ID = uuid.NewString()
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	_, idTaken := s.subs[sub.ID]
	_, nameTaken := s.byName[sub.Name]
	s.mu.Unlock()
	if idTaken || nameTaken {
		return Subscription{}, fmt.Errorf("%w: name %q or id %q is in use", ErrConflict, sub.Name, sub.ID)
	}
	now := s.now()
	sub.State, sub.LastError, sub.CreatedAt, sub.UpdatedAt = StatePending, "", now, now
	e := s.pendingEntry(sub, now)
	if err := s.saveSub(ctx, e); err != nil {
		return Subscription{}, err
	}
	s.install(e, true)
	s.log.Info("event subscription created", "id", sub.ID, "name", sub.Name, "endpoint", redactURL(sub.EndpointURL))
	return sub.clone(), nil
}

// Upsert stores a config-defined subscription, keyed by Name. A new one
// (id derived from the name unless sub.ID is set) starts pending. For an
// existing one the filters are updated in place; a changed endpoint or a
// failed state starts a new handshake; an unchanged active one stays active.
func (s *Subscriptions) Upsert(ctx context.Context, sub Subscription) error {
	sub.Source = SourceConfig
	sub, err := normalizeSubscription(sub, SourceConfig)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.now()
	s.mu.Lock()
	var cur *subEntry
	if id, ok := s.byName[sub.Name]; ok {
		cur = s.subs[id]
	}
	s.mu.Unlock()

	if cur == nil {
		if sub.ID == "" {
			sub.ID = uuid.NewSHA1(configNamespace, []byte(sub.Name)).String()
		}
		s.mu.Lock()
		_, idTaken := s.subs[sub.ID]
		s.mu.Unlock()
		if idTaken {
			return fmt.Errorf("%w: id %q is in use", ErrConflict, sub.ID)
		}
		sub.State, sub.LastError, sub.CreatedAt, sub.UpdatedAt = StatePending, "", now, now
		e := s.pendingEntry(sub, now)
		if err := s.saveSub(ctx, e); err != nil {
			return err
		}
		s.install(e, true)
		s.log.Info("event subscription added from config", "id", sub.ID, "name", sub.Name, "endpoint", redactURL(sub.EndpointURL))
		return nil
	}

	next := *cur
	next.sub = cur.sub.clone()
	if next.sub.Source != SourceConfig {
		s.log.Warn("config takes over event subscription created through the API", "id", next.sub.ID, "name", sub.Name)
	}
	revalidate := next.sub.EndpointURL != sub.EndpointURL || next.sub.State == StateFailed
	changed := revalidate || next.sub.Source != SourceConfig ||
		!slices.Equal(next.sub.EventTypes, sub.EventTypes) || !slices.Equal(next.sub.To, sub.To)
	if !changed {
		return nil
	}
	next.sub.EndpointURL, next.sub.EventTypes, next.sub.To, next.sub.Source = sub.EndpointURL, sub.EventTypes, sub.To, SourceConfig
	next.sub.UpdatedAt = now
	if revalidate {
		next.sub.State, next.sub.LastError = StatePending, ""
		next = *s.pendingEntry(next.sub, now)
	}
	if err := s.saveSub(ctx, &next); err != nil {
		return err
	}
	s.install(&next, revalidate)
	return nil
}

// SyncConfig makes the config-sourced subscriptions equal to subs: each is
// upserted and config subscriptions whose names are not in subs are deleted.
// It returns every error at once.
func (s *Subscriptions) SyncConfig(ctx context.Context, subs []Subscription) error {
	var errs []error
	keep := make(map[string]bool, len(subs))
	for _, sub := range subs {
		if err := s.Upsert(ctx, sub); err != nil {
			errs = append(errs, fmt.Errorf("subscription %q: %w", sub.Name, err))
		}
		keep[strings.TrimSpace(sub.Name)] = true
	}
	all, _ := s.List(ctx)
	for _, sub := range all {
		if sub.Source == SourceConfig && !keep[sub.Name] {
			if err := s.Delete(ctx, sub.ID); err != nil && !errors.Is(err, ErrNotFound) {
				errs = append(errs, fmt.Errorf("subscription %q: %w", sub.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Delete removes a subscription and drops its undelivered events.
func (s *Subscriptions) Delete(ctx context.Context, id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	e := s.subs[id]
	s.mu.Unlock()
	if e == nil {
		return ErrNotFound
	}
	if err := s.deleteSub(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.subs, id)
	delete(s.byName, e.sub.Name)
	delete(s.sched, id)
	s.mu.Unlock()
	if n, err := s.outbox.dropKeyPrefix(ctx, id+":"); err != nil {
		s.log.Error("event subscription deleted and its queued events dropped, but removing them from the database failed (retried)", "id", id, "err", err)
	} else if n > 0 {
		s.log.Info("dropped queued events of deleted subscription", "id", id, "count", n)
	}
	s.log.Info("event subscription deleted", "id", id, "name", e.sub.Name)
	return nil
}

// Revalidate puts a subscription back to pending with a new code and starts
// a new handshake.
func (s *Subscriptions) Revalidate(ctx context.Context, id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	cur := s.subs[id]
	s.mu.Unlock()
	if cur == nil {
		return ErrNotFound
	}
	sub := cur.sub.clone()
	now := s.now()
	sub.State, sub.LastError, sub.UpdatedAt = StatePending, "", now
	e := s.pendingEntry(sub, now)
	if err := s.saveSub(ctx, e); err != nil {
		return err
	}
	s.install(e, true)
	return nil
}

// ConfirmByURL activates a pending subscription whose validation URL was
// called with its current, unexpired code (the API layer calls it from GET
// ValidationURL). Calling it again for an active subscription with the same
// code succeeds. ErrNotFound or ErrBadValidationCode otherwise.
func (s *Subscriptions) ConfirmByURL(ctx context.Context, id, code string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	e := s.subs[id]
	s.mu.Unlock()
	if e == nil {
		return ErrNotFound
	}
	match := e.code != "" && subtle.ConstantTimeCompare([]byte(code), []byte(e.code)) == 1
	if e.sub.State == StateActive && match {
		return nil
	}
	if e.sub.State != StatePending || !match || !s.now().Before(e.codeExpires) {
		return ErrBadValidationCode
	}
	if err := s.setStateLocked(ctx, e, StateActive, ""); err != nil {
		return err
	}
	s.stats.confirmed.Add(1)
	s.log.Info("event subscription validated through its validation URL", "id", id, "name", e.sub.Name)
	return nil
}

// Publish renders ev once (EventGridEvent) and enqueues a KindEventGrid
// delivery to every active subscription it matches, with OrderKey
// "<subscription id>:<ev.OrderKey>". It returns the number of deliveries
// enqueued (0 without rendering when nothing matches).
func (s *Subscriptions) Publish(ctx context.Context, ev Event) (int, error) {
	qt := QualifiedEventType(ev.Type)
	type target struct{ id, name, url string }
	var targets []target
	s.mu.Lock()
	for _, e := range s.subs {
		if e.sub.State == StateActive && e.sub.Matches(qt, ev.ToRawID) {
			targets = append(targets, target{e.sub.ID, e.sub.Name, e.sub.EndpointURL})
		}
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		return 0, nil
	}
	id, body, err := renderEventGridEvent(s.now(), qt, ev.Subject, s.opt.Topic, ev.Data)
	if err != nil {
		return 0, err
	}
	ds := make([]Delivery, len(targets))
	for i, t := range targets {
		ds[i] = Delivery{
			URL: t.url, OrderKey: t.id + ":" + ev.OrderKey, Body: body, Kind: KindEventGrid,
			EventID: id, EventType: qt, SubscriptionName: t.name, Tag: ev.Tag, ExpiresAt: ev.ExpiresAt,
		}
	}
	if err := s.outbox.EnqueueBatch(ctx, ds); err != nil {
		return 0, err
	}
	s.stats.published.Add(1)
	s.stats.deliveries.Add(int64(len(ds)))
	return len(ds), nil
}

// Names reports whether an active subscription to events of eventType
// names toRawID in its To filter: an app has said it takes those events for
// that identity (e.g. the calls of a communication user it automates).
// Subscriptions without a To filter do not count.
func (s *Subscriptions) Names(eventType, toRawID string) bool {
	qt := QualifiedEventType(eventType)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.subs {
		if e.sub.State == StateActive && len(e.sub.To) > 0 && e.sub.Matches(qt, toRawID) {
			return true
		}
	}
	return false
}

// Stats returns the counters.
func (s *Subscriptions) Stats() SubscriptionsStats {
	c := &s.stats
	return SubscriptionsStats{
		Published: c.published.Load(), Deliveries: c.deliveries.Load(), HandshakesSent: c.sent.Load(),
		Validated: c.validated.Load(), ConfirmedByURL: c.confirmed.Load(), HandshakesFailed: c.failed.Load(),
	}
}

// configNamespace derives stable ids for config subscriptions from names.
var configNamespace = uuid.MustParse("6f1c2b8e-5d0a-4c47-9a43-2f2f6c1e7d10")

func (s *Subscriptions) pendingEntry(sub Subscription, now time.Time) *subEntry {
	return &subEntry{sub: sub, code: uuid.NewString(), codeExpires: now.Add(s.opt.CodeValidity)}
}

// install puts e in the cache; schedule starts a fresh handshake for it.
func (s *Subscriptions) install(e *subEntry, schedule bool) {
	s.mu.Lock()
	if old := s.subs[e.sub.ID]; old != nil && old.sub.Name != e.sub.Name {
		delete(s.byName, old.sub.Name)
	}
	s.subs[e.sub.ID] = e
	s.byName[e.sub.Name] = e.sub.ID
	if schedule {
		s.sched[e.sub.ID] = &handshakeState{due: s.now()}
	} else if e.sub.State != StatePending {
		delete(s.sched, e.sub.ID)
	}
	s.mu.Unlock()
	if schedule {
		s.signal()
	}
}

// setStateLocked moves e to state (writeMu held) and ends its handshake
// unless the state is pending.
func (s *Subscriptions) setStateLocked(ctx context.Context, e *subEntry, state SubscriptionState, lastErr string) error {
	next := *e
	next.sub = e.sub.clone()
	next.sub.State, next.sub.LastError, next.sub.UpdatedAt = state, lastErr, s.now()
	if err := s.saveSub(ctx, &next); err != nil {
		return err
	}
	s.install(&next, false)
	return nil
}

func (s *Subscriptions) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

var (
	validName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	validID   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
)

// normalizeSubscription checks sub and returns it with trimmed fields,
// qualified, de-duplicated event types and the default source. It reports
// every problem at once, wrapped in ErrInvalid.
func normalizeSubscription(sub Subscription, defSource string) (Subscription, error) {
	var problems []string
	sub.ID = strings.TrimSpace(sub.ID)
	if sub.ID != "" && !validID.MatchString(sub.ID) {
		problems = append(problems, "id must be 1-128 letters, digits, '.', '_' or '-'")
	}
	sub.Name = strings.TrimSpace(sub.Name)
	if !validName.MatchString(sub.Name) {
		problems = append(problems, "name must be 1-64 letters, digits, '.', '_' or '-'")
	}
	sub.EndpointURL = strings.TrimSpace(sub.EndpointURL)
	if u, err := url.Parse(sub.EndpointURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		problems = append(problems, "endpointUrl must be an absolute http or https URL without a fragment")
	}
	var types []string
	for _, t := range sub.EventTypes {
		t = strings.TrimSpace(t)
		if t == "" || strings.ContainsAny(t, " \t\r\n") {
			problems = append(problems, fmt.Sprintf("invalid event type %q", t))
			continue
		}
		t = QualifiedEventType(t)
		if !slices.ContainsFunc(types, func(x string) bool { return strings.EqualFold(x, t) }) {
			types = append(types, t)
		}
	}
	sub.EventTypes = types
	var to []string
	for _, r := range sub.To {
		r = strings.TrimSpace(r)
		if r == "" {
			problems = append(problems, "empty raw id in to")
			continue
		}
		if !slices.Contains(to, r) {
			to = append(to, r)
		}
	}
	sub.To = to
	switch sub.Source {
	case "":
		sub.Source = defSource
	case SourceConfig, SourceAPI:
	default:
		problems = append(problems, fmt.Sprintf("source must be %q or %q", SourceConfig, SourceAPI))
	}
	if len(problems) > 0 {
		return sub, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return sub, nil
}
