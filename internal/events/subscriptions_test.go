package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testTopic   = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Communication/communicationServices/acs"
	testBaseURL = "https://switchboard.example:8443"
)

// endpoint is an app's Event Grid webhook. validate decides how it answers
// a validation event (status, and whether to echo the code).
type endpoint struct {
	t        *testing.T
	srv      *httptest.Server
	validate atomic.Value // func(code string) (status int, echo bool)

	mu            sync.Mutex
	validations   []validationSeen
	notifications []notificationSeen
}

type validationSeen struct {
	header http.Header
	event  map[string]json.RawMessage
	code   string
	url    string
}

type notificationSeen struct {
	header    http.Header
	eventType string
	id        string
	data      map[string]any
}

func newEndpoint(t *testing.T, validate func(code string) (int, bool)) *endpoint {
	ep := &endpoint{t: t}
	ep.validate.Store(validate)
	ep.srv = httptest.NewUnstartedServer(http.HandlerFunc(ep.serve))
	ep.srv.Start()
	t.Cleanup(ep.srv.Close)
	return ep
}

func echoCode(string) (int, bool) { return http.StatusOK, true }
func noEcho(string) (int, bool)   { return http.StatusOK, false }
func status(s int) func(string) (int, bool) {
	return func(string) (int, bool) { return s, false }
}

func (ep *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var evs []map[string]json.RawMessage
	if err := json.Unmarshal(body, &evs); err != nil || len(evs) != 1 {
		ep.t.Errorf("endpoint got a body that is not a one-event array: %s", body)
		w.WriteHeader(400)
		return
	}
	ev := evs[0]
	switch r.Header.Get("aeg-event-type") {
	case "SubscriptionValidation":
		var d struct {
			ValidationCode string `json:"validationCode"`
			ValidationURL  string `json:"validationUrl"`
		}
		json.Unmarshal(ev["data"], &d)
		ep.mu.Lock()
		ep.validations = append(ep.validations, validationSeen{header: r.Header.Clone(), event: ev, code: d.ValidationCode, url: d.ValidationURL})
		ep.mu.Unlock()
		st, echo := ep.validate.Load().(func(string) (int, bool))(d.ValidationCode)
		w.WriteHeader(st)
		if echo {
			json.NewEncoder(w).Encode(map[string]string{"validationResponse": d.ValidationCode})
		}
	case "Notification":
		var n notificationSeen
		n.header = r.Header.Clone()
		json.Unmarshal(ev["eventType"], &n.eventType)
		json.Unmarshal(ev["id"], &n.id)
		json.Unmarshal(ev["data"], &n.data)
		ep.mu.Lock()
		ep.notifications = append(ep.notifications, n)
		ep.mu.Unlock()
	default:
		ep.t.Errorf("endpoint got aeg-event-type %q", r.Header.Get("aeg-event-type"))
		w.WriteHeader(400)
	}
}

func (ep *endpoint) Validations() []validationSeen {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return slices.Clone(ep.validations)
}

func (ep *endpoint) Notifications() []notificationSeen {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return slices.Clone(ep.notifications)
}

type subsFixture struct {
	db     *sql.DB
	outbox *Outbox
	subs   *Subscriptions
}

func fastSubsOptions() SubscriptionsOptions {
	return SubscriptionsOptions{
		Topic:   testTopic,
		BaseURL: testBaseURL + "/",
		Backoff: Backoff{Initial: 2 * time.Millisecond, Max: 10 * time.Millisecond},
	}
}

// newSubsFixture builds an Outbox and Subscriptions over the db at path and
// runs both.
func newSubsFixture(t *testing.T, path string, opt SubscriptionsOptions) *subsFixture {
	t.Helper()
	db := openDB(t, path)
	o := newTestOutbox(t, db, fastOptions())
	s, err := NewSubscriptions(db, o, nil, testLog(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	start(t, o.Run)
	start(t, s.Run)
	return &subsFixture{db: db, outbox: o, subs: s}
}

func (f *subsFixture) waitState(t *testing.T, id string, want SubscriptionState) Subscription {
	t.Helper()
	var sub Subscription
	eventually(t, "subscription "+string(want), func() bool {
		var err error
		sub, err = f.subs.Get(context.Background(), id)
		return err == nil && sub.State == want
	})
	return sub
}

func (f *subsFixture) create(t *testing.T, sub Subscription) Subscription {
	t.Helper()
	got, err := f.subs.Create(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f *subsFixture) publish(t *testing.T, ev Event) int {
	t.Helper()
	n, err := f.subs.Publish(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSubscriptionValidationResponse(t *testing.T) {
	ep := newEndpoint(t, echoCode)
	f := newSubsFixture(t, dbPath(t), fastSubsOptions())
	sub := f.create(t, Subscription{Name: "incoming", EndpointURL: ep.srv.URL + "/eg", EventTypes: []string{"IncomingCall"}})
	if sub.State != StatePending || sub.Source != SourceAPI || sub.ID == "" {
		t.Errorf("created %+v", sub)
	}
	if sub.EventTypes[0] != "Microsoft.Communication.IncomingCall" {
		t.Errorf("event types %v", sub.EventTypes)
	}
	f.waitState(t, sub.ID, StateActive)

	vs := ep.Validations()
	if len(vs) != 1 {
		t.Fatalf("%d validation requests", len(vs))
	}
	v := vs[0]
	if v.header.Get("aeg-subscription-name") != "incoming" || v.header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(v.header.Get("Authorization"), "Bearer ") {
		t.Errorf("validation headers %v", v.header)
	}
	want := map[string]string{"topic": testTopic, "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
		"metadataVersion": "1", "dataVersion": "1"}
	for k, w := range want {
		if got := str(t, v.event, k); got != w {
			t.Errorf("validation %s = %q, want %q", k, got, w)
		}
	}
	if str(t, v.event, "id") == "" || str(t, v.event, "eventTime") == "" {
		t.Error("validation event lacks id or eventTime")
	}
	wantURL := testBaseURL + "/admin/v1/eventSubscriptions/" + sub.ID + "/validate?code=" + v.code
	if v.url != wantURL {
		t.Errorf("validationUrl %q, want %q", v.url, wantURL)
	}

	n := f.publish(t, Event{Type: "IncomingCall", Subject: "/caller/a/recipient/b", ToRawID: "4:+14255550123",
		Data: map[string]any{"to": map[string]string{"rawId": "4:+14255550123"}}, OrderKey: "call-1"})
	if n != 1 {
		t.Fatalf("Publish enqueued %d", n)
	}
	waitIdle(t, f.outbox)
	ns := ep.Notifications()
	if len(ns) != 1 || ns[0].eventType != "Microsoft.Communication.IncomingCall" ||
		ns[0].header.Get("aeg-subscription-name") != "incoming" {
		t.Fatalf("notifications %+v", ns)
	}
	if st := f.subs.Stats(); st.Validated != 1 || st.Published != 1 || st.Deliveries != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestSubscriptionValidationURL(t *testing.T) {
	ep := newEndpoint(t, noEcho)
	f := newSubsFixture(t, dbPath(t), fastSubsOptions())
	sub := f.create(t, Subscription{Name: "by-url", EndpointURL: ep.srv.URL})
	eventually(t, "a validation request", func() bool { return len(ep.Validations()) == 1 })
	v := ep.Validations()[0]

	// The app calls the URL it was given; the API layer parses it and calls
	// ConfirmByURL.
	u, err := url.Parse(v.url)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := strings.CutSuffix(strings.TrimPrefix(u.Path, ValidationPathPrefix), "/validate")
	if !ok || id != sub.ID || u.Query().Get("code") != v.code {
		t.Fatalf("validation URL %q", v.url)
	}
	ctx := context.Background()
	if _, err := f.subs.Publish(ctx, Event{Type: "IncomingCall"}); err != nil {
		t.Fatal(err)
	}
	if err := f.subs.ConfirmByURL(ctx, id, "wrong"); !errors.Is(err, ErrBadValidationCode) {
		t.Errorf("wrong code: %v", err)
	}
	if err := f.subs.ConfirmByURL(ctx, "nope", v.code); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if err := f.subs.ConfirmByURL(ctx, id, u.Query().Get("code")); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.subs.Get(ctx, id); got.State != StateActive {
		t.Errorf("state %s", got.State)
	}
	if err := f.subs.ConfirmByURL(ctx, id, v.code); err != nil {
		t.Errorf("repeated confirmation: %v", err)
	}
	if n := len(ep.Validations()); n != 1 {
		t.Errorf("%d validation requests, want 1", n)
	}
	if n := f.publish(t, Event{Type: "CallStarted", OrderKey: "c"}); n != 1 {
		t.Errorf("Publish enqueued %d", n)
	}
	waitIdle(t, f.outbox)
	if n := len(ep.Notifications()); n != 1 {
		t.Errorf("%d notifications, want 1 (nothing before validation)", n)
	}
	if st := f.subs.Stats(); st.ConfirmedByURL != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestSubscriptionValidationURLExpires(t *testing.T) {
	base := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	opt := fastSubsOptions()
	opt.Now = func() time.Time { return base.Add(time.Duration(offset.Load())) }
	ep := newEndpoint(t, noEcho)
	f := newSubsFixture(t, dbPath(t), opt)
	sub := f.create(t, Subscription{Name: "slow", EndpointURL: ep.srv.URL})
	eventually(t, "a validation request", func() bool { return len(ep.Validations()) == 1 })
	code := ep.Validations()[0].code

	offset.Store(int64(10*time.Minute + time.Second))
	if err := f.subs.ConfirmByURL(context.Background(), sub.ID, code); !errors.Is(err, ErrBadValidationCode) {
		t.Errorf("expired code: %v", err)
	}
	f.subs.signal() // the fake clock moved: let Run notice the wait is over
	got := f.waitState(t, sub.ID, StateFailed)
	if got.LastError == "" {
		t.Error("failed without a reason")
	}

	// Revalidate starts over with a new code.
	ep.validate.Store(echoCode)
	if err := f.subs.Revalidate(context.Background(), sub.ID); err != nil {
		t.Fatal(err)
	}
	f.waitState(t, sub.ID, StateActive)
	if vs := ep.Validations(); len(vs) != 2 || vs[1].code == code {
		t.Errorf("revalidation did not send a new code")
	}
}

func TestSubscriptionPendingGetsNothing(t *testing.T) {
	ep := newEndpoint(t, status(http.StatusServiceUnavailable))
	f := newSubsFixture(t, dbPath(t), fastSubsOptions())
	sub := f.create(t, Subscription{Name: "down", EndpointURL: ep.srv.URL})
	eventually(t, "handshake retries", func() bool { return len(ep.Validations()) >= 3 })
	if got, _ := f.subs.Get(context.Background(), sub.ID); got.State != StatePending || got.LastError == "" {
		t.Errorf("after retries: %+v", got)
	}
	if n := f.publish(t, Event{Type: "IncomingCall", OrderKey: "c"}); n != 0 {
		t.Errorf("Publish enqueued %d for a pending subscription", n)
	}
	// The code is reused across retries while it is fresh, so a late call of
	// an earlier validation URL still works.
	vs := ep.Validations()
	if vs[0].code != vs[len(vs)-1].code {
		t.Error("code changed between quick retries")
	}

	ep.validate.Store(echoCode) // the app comes up
	f.waitState(t, sub.ID, StateActive)
	if n := f.publish(t, Event{Type: "IncomingCall", OrderKey: "c"}); n != 1 {
		t.Errorf("Publish enqueued %d", n)
	}
	waitIdle(t, f.outbox)
	if n := len(ep.Notifications()); n != 1 {
		t.Errorf("%d notifications", n)
	}
}

func TestSubscriptionEndpointUnreachableThenUp(t *testing.T) {
	addr := closedAddr(t)
	f := newSubsFixture(t, dbPath(t), fastSubsOptions())
	sub := f.create(t, Subscription{Name: "later", EndpointURL: "http://" + addr + "/eg"})
	eventually(t, "failed handshakes", func() bool {
		got, _ := f.subs.Get(context.Background(), sub.ID)
		return got.LastError != ""
	})
	ep := &endpoint{t: t}
	ep.validate.Store(echoCode)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ep.serve))
	srv.Listener.Close()
	srv.Listener = listenOn(t, addr)
	srv.Start()
	t.Cleanup(srv.Close)
	got := f.waitState(t, sub.ID, StateActive)
	if got.LastError != "" {
		t.Errorf("LastError %q after success", got.LastError)
	}
}

func TestSubscriptionHandshakeRefused(t *testing.T) {
	tests := []struct {
		name     string
		validate func(string) (int, bool)
	}{
		{"404", status(http.StatusNotFound)},
		{"wrong code", func(string) (int, bool) { return 0, false }}, // handled below
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ep *endpoint
			if tc.name == "wrong code" {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, `{"validationResponse":"not-the-code"}`)
				}))
				t.Cleanup(srv.Close)
				ep = &endpoint{srv: srv}
			} else {
				ep = newEndpoint(t, tc.validate)
			}
			f := newSubsFixture(t, dbPath(t), fastSubsOptions())
			sub := f.create(t, Subscription{Name: "refused", EndpointURL: ep.srv.URL})
			got := f.waitState(t, sub.ID, StateFailed)
			if got.LastError == "" {
				t.Error("no LastError")
			}
			if f.subs.Stats().HandshakesFailed != 1 {
				t.Errorf("stats %+v", f.subs.Stats())
			}
		})
	}
}

func TestSubscriptionFilters(t *testing.T) {
	f := newSubsFixture(t, dbPath(t), fastSubsOptions())
	type spec struct {
		name  string
		types []string
		to    []string
	}
	specs := []spec{
		{"all", nil, nil},
		{"incoming", []string{"Microsoft.Communication.IncomingCall"}, nil},
		{"lifecycle", []string{"CallStarted", "microsoft.communication.callended"}, nil},
		{"number", []string{"IncomingCall"}, []string{"4:+14255550123"}},
		{"user", nil, []string{"8:acs:res_user1", "8:acs:res_user2"}},
	}
	eps := map[string]*endpoint{}
	for _, s := range specs {
		eps[s.name] = newEndpoint(t, echoCode)
		sub := f.create(t, Subscription{Name: s.name, EndpointURL: eps[s.name].srv.URL, EventTypes: s.types, To: s.to})
		f.waitState(t, sub.ID, StateActive)
	}
	events := []struct {
		typ, to string
		want    []string
	}{
		{"IncomingCall", "4:+14255550123", []string{"all", "incoming", "number"}},
		{"IncomingCall", "4:+14255550999", []string{"all", "incoming"}},
		{"IncomingCall", "8:acs:res_user2", []string{"all", "incoming", "user"}},
		{"Microsoft.Communication.CallEnded", "8:acs:res_user1", []string{"all", "lifecycle", "user"}},
		{"CallStarted", "", []string{"all", "lifecycle"}},
		{"ParticipantAdded", "", []string{"all"}},
	}
	wantCount := map[string]int{}
	for _, ev := range events {
		n := f.publish(t, Event{Type: ev.typ, ToRawID: ev.to, OrderKey: "call-1", Data: map[string]string{"kind": ev.typ}})
		if n != len(ev.want) {
			t.Errorf("%s to %q: enqueued %d, want %d", ev.typ, ev.to, n, len(ev.want))
		}
		for _, w := range ev.want {
			wantCount[w]++
		}
	}
	waitIdle(t, f.outbox)
	for _, s := range specs {
		if got := len(eps[s.name].Notifications()); got != wantCount[s.name] {
			t.Errorf("%s got %d events, want %d", s.name, got, wantCount[s.name])
		}
	}
	// One rendering per event: every subscription saw the same id.
	if a, b := eps["all"].Notifications()[0].id, eps["incoming"].Notifications()[0].id; a != b {
		t.Errorf("event ids differ between subscriptions: %s vs %s", a, b)
	}
}

func TestSubscriptionMatches(t *testing.T) {
	tests := []struct {
		sub     Subscription
		typ, to string
		want    bool
	}{
		{Subscription{}, "Anything", "", true},
		{Subscription{EventTypes: []string{"Microsoft.Communication.IncomingCall"}}, "IncomingCall", "", true},
		{Subscription{EventTypes: []string{"Microsoft.Communication.IncomingCall"}}, "microsoft.communication.incomingcall", "", true},
		{Subscription{EventTypes: []string{"Microsoft.Communication.IncomingCall"}}, "CallEnded", "", false},
		{Subscription{To: []string{"4:+1"}}, "IncomingCall", "4:+1", true},
		{Subscription{To: []string{"4:+1"}}, "IncomingCall", "4:+2", false},
		{Subscription{To: []string{"4:+1"}}, "IncomingCall", "", false},
	}
	for i, tc := range tests {
		if got := tc.sub.Matches(tc.typ, tc.to); got != tc.want {
			t.Errorf("%d: Matches(%q, %q) = %v", i, tc.typ, tc.to, got)
		}
	}
}

func TestSubscriptionCreateValidation(t *testing.T) {
	f := newSubsFixture(t, dbPath(t), fastSubsOptions())
	ok := Subscription{Name: "ok", EndpointURL: "https://app.example/eg"}
	tests := []struct {
		name string
		mod  func(*Subscription)
		want error
	}{
		{"no name", func(s *Subscription) { s.Name = "" }, ErrInvalid},
		{"bad name", func(s *Subscription) { s.Name = "has space" }, ErrInvalid},
		{"long name", func(s *Subscription) { s.Name = strings.Repeat("a", 65) }, ErrInvalid},
		{"no url", func(s *Subscription) { s.EndpointURL = "" }, ErrInvalid},
		{"relative url", func(s *Subscription) { s.EndpointURL = "/eg" }, ErrInvalid},
		{"ws url", func(s *Subscription) { s.EndpointURL = "ws://app/eg" }, ErrInvalid},
		{"fragment", func(s *Subscription) { s.EndpointURL = "https://app/eg#x" }, ErrInvalid},
		{"empty type", func(s *Subscription) { s.EventTypes = []string{""} }, ErrInvalid},
		{"empty to", func(s *Subscription) { s.To = []string{" "} }, ErrInvalid},
		{"bad source", func(s *Subscription) { s.Source = "other" }, ErrInvalid},
		{"bad id", func(s *Subscription) { s.ID = "a/b" }, ErrInvalid},
	}
	for _, tc := range tests {
		s := ok
		tc.mod(&s)
		if _, err := f.subs.Create(context.Background(), s); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := f.subs.Create(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	if _, err := f.subs.Create(context.Background(), ok); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate name: %v", err)
	}
	// Every problem is reported at once.
	_, err := f.subs.Create(context.Background(), Subscription{Name: "", EndpointURL: "x"})
	if err == nil || !strings.Contains(err.Error(), "name") || !strings.Contains(err.Error(), "endpointUrl") {
		t.Errorf("combined error %v", err)
	}
	list, _ := f.subs.List(context.Background())
	if len(list) != 1 || countRows(t, f.db, "event_subscriptions") != 1 {
		t.Errorf("list %+v", list)
	}
}

func TestSubscriptionConfigUpsertAndRestart(t *testing.T) {
	path := dbPath(t)
	ep := newEndpoint(t, echoCode)
	ep2 := newEndpoint(t, echoCode)
	ctx := context.Background()

	f1 := newSubsFixture(t, path, fastSubsOptions())
	if err := f1.subs.SyncConfig(ctx, []Subscription{
		{Name: "cfg-a", EndpointURL: ep.srv.URL, EventTypes: []string{"IncomingCall"}},
		{Name: "cfg-b", EndpointURL: ep.srv.URL},
	}); err != nil {
		t.Fatal(err)
	}
	list, _ := f1.subs.List(ctx)
	if len(list) != 2 {
		t.Fatalf("list %+v", list)
	}
	for _, s := range list {
		if s.Source != SourceConfig {
			t.Errorf("%s source %q", s.Name, s.Source)
		}
		f1.waitState(t, s.ID, StateActive)
	}
	idA := list[0].ID
	apiSub := f1.create(t, Subscription{Name: "api-1", EndpointURL: ep.srv.URL})
	f1.waitState(t, apiSub.ID, StateActive)
	handshakes := len(ep.Validations())

	// Restart: same config, so nothing is revalidated; cfg-b left the
	// config and goes; cfg-a's filter changes in place; api-1 stays.
	f2 := newSubsFixture(t, path, fastSubsOptions())
	if got, err := f2.subs.Get(ctx, idA); err != nil || got.State != StateActive {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	if err := f2.subs.SyncConfig(ctx, []Subscription{
		{Name: "cfg-a", EndpointURL: ep.srv.URL, EventTypes: []string{"IncomingCall", "CallEnded"}},
	}); err != nil {
		t.Fatal(err)
	}
	got, _ := f2.subs.Get(ctx, idA)
	if got.State != StateActive || len(got.EventTypes) != 2 {
		t.Errorf("cfg-a after sync %+v", got)
	}
	list, _ = f2.subs.List(ctx)
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"api-1", "cfg-a"}) {
		t.Errorf("names %v", names)
	}
	if n := len(ep.Validations()); n != handshakes {
		t.Errorf("restart re-validated: %d handshakes, had %d", n, handshakes)
	}

	// A new endpoint needs a new handshake.
	if err := f2.subs.Upsert(ctx, Subscription{Name: "cfg-a", EndpointURL: ep2.srv.URL}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f2.subs.Get(ctx, idA); got.State != StatePending || got.ID != idA {
		t.Errorf("after endpoint change %+v", got)
	}
	f2.waitState(t, idA, StateActive)
	if len(ep2.Validations()) != 1 {
		t.Errorf("new endpoint saw %d handshakes", len(ep2.Validations()))
	}
}

func TestSubscriptionDeleteDropsQueuedEvents(t *testing.T) {
	var accept atomic.Bool
	ep := newEndpoint(t, echoCode)
	f := newSubsFixture(t, dbPath(t), fastSubsOptions())
	sub := f.create(t, Subscription{Name: "gone", EndpointURL: ep.srv.URL})
	f.waitState(t, sub.ID, StateActive)
	// Swap the endpoint for one that fails notifications, so they queue.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	failing := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !accept.Load() {
			w.WriteHeader(503)
		}
	}))
	failing.Listener.Close()
	failing.Listener = ln
	failing.Start()
	t.Cleanup(failing.Close)
	f.subs.mu.Lock()
	e := *f.subs.subs[sub.ID]
	e.sub.EndpointURL = failing.URL
	f.subs.subs[sub.ID] = &e
	f.subs.mu.Unlock()

	for range 3 {
		f.publish(t, Event{Type: "CallStarted", OrderKey: "call-9"})
	}
	eventually(t, "retries", func() bool { return f.outbox.Stats().Retries >= 2 })
	if err := f.subs.Delete(context.Background(), sub.ID); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, f.outbox)
	if n := tableRows(t, f.outbox, f.db); n != 0 {
		t.Errorf("%d rows left", n)
	}
	if _, err := f.subs.Get(context.Background(), sub.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after delete: %v", err)
	}
	if err := f.subs.Delete(context.Background(), sub.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}
