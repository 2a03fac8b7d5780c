package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func enqueueAll(t *testing.T, o *Outbox, ds ...Delivery) {
	t.Helper()
	for _, d := range ds {
		if err := o.Enqueue(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
}

// wantInOrder checks that every key got 0..n-1 exactly once, in order.
func wantInOrder(t *testing.T, got map[string][]int, keys []string, n int) {
	t.Helper()
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	for _, k := range keys {
		if !slices.Equal(got[k], want) {
			t.Errorf("key %s: got %v, want %v", k, got[k], want)
		}
	}
}

func TestOutboxOrderPerKeyUnderRetries(t *testing.T) {
	const perKey = 15
	keys := []string{"call-a", "call-b", "call-c"}
	var failures atomic.Int32
	var mu sync.Mutex
	inflight := map[string]int{}
	overlap := false
	rc := newReceiver(t, func(r received, attempt int) int {
		mu.Lock()
		inflight[r.Key]++
		if inflight[r.Key] > 1 {
			overlap = true
		}
		mu.Unlock()
		defer func() { mu.Lock(); inflight[r.Key]--; mu.Unlock() }()
		// Fail the first 40 requests, then every third.
		if failures.Add(1) <= 40 || r.N%3 == 0 && attempt == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	db := openDB(t, dbPath(t))
	o := newTestOutbox(t, db, fastOptions())
	start(t, o.Run)
	for n := range perKey {
		for _, k := range keys {
			enqueueAll(t, o, testDelivery(t, rc.URL(), k, n))
		}
	}
	waitIdle(t, o)

	wantInOrder(t, sequences(rc.Accepted()), keys, perKey)
	if overlap {
		t.Error("two deliveries of one key were in flight at once")
	}
	if n := tableRows(t, o, db); n != 0 {
		t.Errorf("%d rows left in outbox", n)
	}
	st := o.Stats()
	if st.Delivered != int64(perKey*len(keys)) || st.Retries == 0 || st.Enqueued != int64(perKey*len(keys)) {
		t.Errorf("stats %+v", st)
	}
}

func TestOutboxDeliveryRequest(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		sub  string
		aud  string
		want map[string]string
	}{
		{name: "callback", kind: KindCloudEvent, want: map[string]string{"aeg-event-type": ""}},
		{name: "eventgrid", kind: KindEventGrid, sub: "incoming-calls", want: map[string]string{
			"aeg-event-type": "Notification", "aeg-subscription-name": "incoming-calls", "aeg-delivery-count": "0",
		}},
		{name: "audience override", kind: KindCloudEvent, aud: "other-resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			db := openDB(t, dbPath(t))
			signer := newTestSigner(t)
			o, err := NewOutbox(db, signer, nil, testLog(t), fastOptions())
			if err != nil {
				t.Fatal(err)
			}
			start(t, o.Run)
			d := testDelivery(t, rc.URL()+"/callback?token=secret", "k", 0)
			d.Kind, d.SubscriptionName, d.Audience = tc.kind, tc.sub, tc.aud
			enqueueAll(t, o, d)
			waitIdle(t, o)
			got := rc.Accepted()
			if len(got) != 1 {
				t.Fatalf("got %d requests", len(got))
			}
			h := got[0].Header
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if string(got[0].Body) != string(d.Body) {
				t.Errorf("body changed in transit")
			}
			for k, v := range tc.want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			wantAud := testAudience
			if tc.aud != "" {
				wantAud = tc.aud
			}
			tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
			if !ok {
				t.Fatalf("Authorization %q", h.Get("Authorization"))
			}
			claims := verifyWithJWKS(t, signer.JWKS(), tok, wantAud)
			if claims["iss"] != testIssuer {
				t.Errorf("iss %v", claims["iss"])
			}
		})
	}
}

func TestOutboxReceiverDownThenUp(t *testing.T) {
	addr := closedAddr(t)
	db := openDB(t, dbPath(t))
	o := newTestOutbox(t, db, fastOptions())
	start(t, o.Run)
	for n := range 5 {
		enqueueAll(t, o, testDelivery(t, "http://"+addr+"/cb", "call-1", n))
	}
	eventually(t, "a few refused attempts", func() bool { return o.Stats().Retries >= 3 })
	if o.Stats().Delivered != 0 {
		t.Fatal("delivered to a closed port?")
	}
	rc := newReceiverOn(t, listenOn(t, addr), nil)
	waitIdle(t, o)
	wantInOrder(t, sequences(rc.Accepted()), []string{"call-1"}, 5)
	if n := len(rc.All()); n != 5 {
		t.Errorf("receiver saw %d requests, want 5", n)
	}
}

func TestOutboxSurvivesRestart(t *testing.T) {
	path := dbPath(t)
	addr := closedAddr(t)
	url := "http://" + addr + "/cb"
	keys := []string{"call-1", "call-2"}

	db1 := openDB(t, path)
	o1 := newTestOutbox(t, db1, fastOptions())
	stop1 := start(t, o1.Run)
	for n := range 4 {
		for _, k := range keys {
			enqueueAll(t, o1, testDelivery(t, url, k, n))
		}
	}
	eventually(t, "failed attempts", func() bool { return o1.Stats().Retries >= 2 })
	stop1()
	db1.Close()

	db2 := openDB(t, path)
	if n := countRows(t, db2, "outbox"); n != 8 {
		t.Fatalf("%d rows after restart, want 8", n)
	}
	o2 := newTestOutbox(t, db2, fastOptions())
	if o2.Pending() != 2 {
		t.Errorf("Pending() = %d after load, want 2", o2.Pending())
	}
	rc := newReceiverOn(t, listenOn(t, addr), nil)
	start(t, o2.Run)
	waitIdle(t, o2)
	wantInOrder(t, sequences(rc.Accepted()), keys, 4)
	if n := tableRows(t, o2, db2); n != 0 {
		t.Errorf("%d rows left", n)
	}
}

func TestOutboxEnqueueBeforeRun(t *testing.T) {
	rc := newReceiver(t, nil)
	db := openDB(t, dbPath(t))
	o := newTestOutbox(t, db, fastOptions())
	for n := range 3 {
		enqueueAll(t, o, testDelivery(t, rc.URL(), "k", n))
	}
	start(t, o.Run)
	waitIdle(t, o)
	wantInOrder(t, sequences(rc.Accepted()), []string{"k"}, 3)
}

func TestOutboxNeverAnsweringReceiver(t *testing.T) {
	release := make(chan struct{})
	var first atomic.Value
	rc := newReceiver(t, func(r received, attempt int) int {
		if r.N == 0 {
			first.Store(r.ID)
			<-release // hold the request until the test ends
		}
		return http.StatusOK
	})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	db := openDB(t, dbPath(t))
	opt := fastOptions()
	opt.ResponseTimeout = 50 * time.Millisecond
	o := newTestOutbox(t, db, opt)
	start(t, o.Run)
	for n := range 3 {
		enqueueAll(t, o, testDelivery(t, rc.URL(), "call-1", n))
	}
	waitIdle(t, o)
	// Events 1 and 2 only go after 0 is done, so if 0 were retried it would
	// have been seen again by now.
	got := rc.All()
	var ns []int
	for _, r := range got {
		ns = append(ns, r.N)
	}
	if !slices.Equal(ns, []int{0, 1, 2}) {
		t.Errorf("receiver saw %v, want [0 1 2]", ns)
	}
	// Event 0 surely timed out; 1 and 2 normally answer in time, but on a
	// loaded machine they may time out too, which is just as final.
	if st := o.Stats(); st.NoResponse < 1 || st.NoResponse+st.Delivered != 3 || st.Retries != 0 || st.Attempts != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestOutboxKeysDoNotBlockEachOther(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(r received, attempt int) int {
		if r.Key == "stuck" {
			<-release
		}
		return http.StatusOK
	})
	t.Cleanup(func() { close(release) })
	db := openDB(t, dbPath(t))
	opt := fastOptions()
	opt.ResponseTimeout = time.Hour
	o := newTestOutbox(t, db, opt)
	start(t, o.Run)
	enqueueAll(t, o, testDelivery(t, rc.URL(), "stuck", 0), testDelivery(t, rc.URL(), "stuck", 1))
	for n := range 5 {
		enqueueAll(t, o, testDelivery(t, rc.URL(), "free", n))
	}
	eventually(t, "the free key's events", func() bool { return len(sequences(rc.Accepted())["free"]) == 5 })
	wantInOrder(t, sequences(rc.Accepted()), []string{"free"}, 5)
	for _, r := range rc.All() {
		if r.Key == "stuck" && r.N == 1 {
			t.Error("second event of the stuck key was sent while the first was in flight")
		}
	}
}

func TestOutboxMaxInFlight(t *testing.T) {
	var cur, peak atomic.Int32
	rc := newReceiver(t, func(r received, attempt int) int {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		cur.Add(-1)
		return http.StatusOK
	})
	db := openDB(t, dbPath(t))
	opt := fastOptions()
	opt.MaxInFlight = 2
	o := newTestOutbox(t, db, opt)
	start(t, o.Run)
	for k := range 10 {
		for n := range 3 {
			enqueueAll(t, o, testDelivery(t, rc.URL(), fmt.Sprintf("k%d", k), n))
		}
	}
	waitIdle(t, o)
	if p := peak.Load(); p > 2 {
		t.Errorf("%d requests in flight at once, MaxInFlight 2", p)
	}
	if n := len(rc.Accepted()); n != 30 {
		t.Errorf("%d delivered, want 30", n)
	}
}

func TestOutboxStatusHandling(t *testing.T) {
	tests := []struct {
		status   int
		retried  bool
		rejected int64
	}{
		{http.StatusBadRequest, false, 1},
		{http.StatusUnauthorized, false, 1},
		{http.StatusForbidden, false, 1},
		{http.StatusNotFound, false, 1},
		{http.StatusGone, false, 1},
		{http.StatusFound, false, 1},
		{http.StatusRequestTimeout, true, 0},
		{http.StatusTooManyRequests, true, 0},
		{http.StatusInternalServerError, true, 0},
		{http.StatusBadGateway, true, 0},
		{http.StatusServiceUnavailable, true, 0},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			rc := newReceiver(t, func(r received, attempt int) int {
				if r.N == 0 && attempt == 1 {
					return tc.status
				}
				return http.StatusOK
			})
			db := openDB(t, dbPath(t))
			o := newTestOutbox(t, db, fastOptions())
			start(t, o.Run)
			d0 := testDelivery(t, rc.URL(), "k", 0)
			enqueueAll(t, o, d0, testDelivery(t, rc.URL(), "k", 1))
			waitIdle(t, o)
			want := 1
			if tc.retried {
				want = 2
			}
			if got := rc.Attempts(d0.EventID); got != want {
				t.Errorf("event 0 sent %d times, want %d", got, want)
			}
			seq := sequences(rc.Accepted())["k"]
			if tc.retried && !slices.Equal(seq, []int{0, 1}) || !tc.retried && !slices.Equal(seq, []int{1}) {
				t.Errorf("accepted %v", seq)
			}
			if st := o.Stats(); st.Rejected != tc.rejected {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestClassifyStatusRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tc := range tests {
		resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {tc.header}}}
		res := classifyStatus(resp, now)
		if res.outcome != outcomeRetry || res.retryAfter != tc.want {
			t.Errorf("Retry-After %q: outcome %v after %v, want retry after %v", tc.header, res.outcome, res.retryAfter, tc.want)
		}
	}
}

func TestOutboxExpireTag(t *testing.T) {
	var tagged atomic.Value
	tagged.Store("")
	rc := newReceiver(t, func(r received, attempt int) int {
		if r.ID == tagged.Load().(string) {
			return http.StatusServiceUnavailable // the app is down for this one
		}
		return http.StatusOK
	})
	db := openDB(t, dbPath(t))
	opt := fastOptions()
	opt.Backoff = Backoff{Initial: 5 * time.Millisecond, Max: 5 * time.Millisecond}
	o := newTestOutbox(t, db, opt)
	start(t, o.Run)
	ring := testDelivery(t, rc.URL(), "sub:call-1", 0)
	ring.Tag = "ringing:call-1"
	tagged.Store(ring.EventID)
	enqueueAll(t, o, ring, testDelivery(t, rc.URL(), "sub:call-1", 1))
	eventually(t, "retries of the tagged event", func() bool { return rc.Attempts(ring.EventID) >= 2 })
	if n := o.Expire("ringing:call-1"); n != 1 {
		t.Errorf("Expire removed %d rows, want 1", n)
	}
	if n := o.Expire("ringing:call-1"); n != 0 {
		t.Errorf("second Expire removed %d rows", n)
	}
	waitIdle(t, o)
	after := rc.Attempts(ring.EventID)
	if seq := sequences(rc.Accepted())["sub:call-1"]; !slices.Equal(seq, []int{1}) {
		t.Errorf("accepted %v, want [1]", seq)
	}
	// Idle means no key holds the tagged row any more; nothing can resend it.
	if n := tableRows(t, o, db); n != 0 {
		t.Errorf("%d rows left", n)
	}
	if o.Stats().Expired != 1 || rc.Attempts(ring.EventID) != after {
		t.Errorf("stats %+v", o.Stats())
	}
}

func TestOutboxExpiresAtAndMaxAge(t *testing.T) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	now := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	rc := newReceiver(t, func(r received, attempt int) int { return http.StatusServiceUnavailable })
	db := openDB(t, dbPath(t))
	opt := fastOptions()
	opt.Now = now
	opt.MaxAge = time.Hour
	o := newTestOutbox(t, db, opt)

	expired := testDelivery(t, rc.URL(), "a", 0)
	expired.ExpiresAt = base.Add(-time.Second)
	old := testDelivery(t, rc.URL(), "b", 0)
	enqueueAll(t, o, expired, old)
	offset.Store(int64(2 * time.Hour)) // "old" is now past MaxAge
	start(t, o.Run)
	waitIdle(t, o)
	if n := len(rc.All()); n != 0 {
		t.Errorf("receiver saw %d requests, want 0", n)
	}
	if st := o.Stats(); st.Expired != 1 || st.TooOld != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestOutboxEnqueueValidation(t *testing.T) {
	db := openDB(t, dbPath(t))
	o := newTestOutbox(t, db, fastOptions())
	good := Delivery{URL: "https://app.example/cb", Body: []byte(`[{}]`)}
	tests := []struct {
		name string
		mod  func(*Delivery)
	}{
		{"relative URL", func(d *Delivery) { d.URL = "/cb" }},
		{"ftp URL", func(d *Delivery) { d.URL = "ftp://x/y" }},
		{"no host", func(d *Delivery) { d.URL = "http:///x" }},
		{"empty body", func(d *Delivery) { d.Body = nil }},
		{"bad kind", func(d *Delivery) { d.Kind = 9 }},
	}
	for _, tc := range tests {
		d := good
		tc.mod(&d)
		if err := o.Enqueue(context.Background(), d); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", tc.name, err)
		}
	}
	if err := o.Enqueue(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	// Only the valid one is queued; it is written when it is due (here, as
	// at Run's exit, at once).
	if p := o.Pending(); p != 1 {
		t.Errorf("Pending() = %d, want 1", p)
	}
	if err := o.flush(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "outbox"); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

func TestOutboxRunTwice(t *testing.T) {
	db := openDB(t, dbPath(t))
	o := newTestOutbox(t, db, fastOptions())
	start(t, o.Run)
	eventually(t, "Run to start", func() bool { o.mu.Lock(); defer o.mu.Unlock(); return o.running })
	if err := o.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	b.Jitter = 0.5
	for i := range 20 {
		d := b.Delay(i%6 + 1)
		if d < 50*time.Millisecond || d > time.Second {
			t.Errorf("jittered delay %v out of range", d)
		}
	}
	if d := (Backoff{}).orDefault(DefaultBackoff()); d != DefaultBackoff() {
		t.Errorf("orDefault %+v", d)
	}
}

// resettingListener resets the first n connections it accepts (RST, no
// HTTP answer) and hands the rest to the server.
type resettingListener struct {
	net.Listener
	left atomic.Int32
}

func (l *resettingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.left.Add(-1) < 0 {
			return c, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}

func TestOutboxConnectionResetIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := &resettingListener{Listener: ln}
	rl.left.Store(3)
	rc := newReceiverOn(t, rl, nil)
	db := openDB(t, dbPath(t))
	o := newTestOutbox(t, db, fastOptions())
	start(t, o.Run)
	enqueueAll(t, o, testDelivery(t, rc.URL(), "k", 0), testDelivery(t, rc.URL(), "k", 1))
	waitIdle(t, o)
	wantInOrder(t, sequences(rc.Accepted()), []string{"k"}, 2)
	if st := o.Stats(); st.Retries < 3 || st.NoResponse != 0 || st.Delivered != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestOutboxSilentPeer: a peer that accepts the connection and reads the
// request but never writes a byte back. The event counts as delivered after
// ResponseTimeout and is not sent again.
func TestOutboxSilentPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() { io.Copy(io.Discard, c); c.Close() }) // read until the client gives up
		}
	})
	db := openDB(t, dbPath(t))
	opt := fastOptions()
	opt.ResponseTimeout = 20 * time.Millisecond
	o := newTestOutbox(t, db, opt)
	start(t, o.Run)
	url := "http://" + ln.Addr().String() + "/cb"
	enqueueAll(t, o, testDelivery(t, url, "k", 0), testDelivery(t, url, "k", 1))
	waitIdle(t, o)
	if st := o.Stats(); st.NoResponse != 2 || st.Retries != 0 || st.Attempts != 2 {
		t.Errorf("stats %+v", st)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (one per event, none re-sent)", n)
	}
}
