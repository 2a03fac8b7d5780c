package events

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// testLog logs to the test output when -v is given, else nowhere.
func testLog(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// dbPath returns a fresh database file path.
func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "switchboard.db") }

// openDB opens (and migrates) the SQLite database at path.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

// sharedKey is one 2048-bit key for all tests (generation is slow under -race).
func sharedKey(t *testing.T) *rsa.PrivateKey {
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

const (
	testIssuer   = "https://switchboard.test"
	testAudience = "0b6a8f2e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
)

func newTestSigner(t *testing.T, opts ...SignerOption) *Signer {
	t.Helper()
	s, err := NewSigner(sharedKey(t), testIssuer, testLog(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fastOptions are OutboxOptions with millisecond backoff.
func fastOptions() OutboxOptions {
	return OutboxOptions{
		Audience:        testAudience,
		Backoff:         Backoff{Initial: 2 * time.Millisecond, Max: 20 * time.Millisecond},
		ResponseTimeout: 30 * time.Second, // generous: a loaded machine must not turn answers into timeouts
		MaxInFlight:     8,
	}
}

func newTestOutbox(t *testing.T, db *sql.DB, opt OutboxOptions) *Outbox {
	t.Helper()
	o, err := NewOutbox(db, newTestSigner(t), nil, testLog(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// start runs run(ctx) in a goroutine; the returned stop cancels it and waits.
// stop is also registered as a cleanup.
func start(t *testing.T, run func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds or a generous deadline passes. The
// deadline only bounds a failing test; nothing asserts how long it took.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waitIdle(t *testing.T, o *Outbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := o.WaitIdle(ctx); err != nil {
		t.Fatalf("outbox not idle: %v (pending keys %d)", err, o.Pending())
	}
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	Key    string // data.key of the event
	N      int    // data.n of the event
	ID     string // event id
}

// receiver is an httptest server that records requests and answers with
// respond (200 when nil).
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	respond func(r received, attempt int) int

	mu       sync.Mutex
	all      []received     // every request, accepted or not
	accepted []received     // requests answered 2xx
	attempts map[string]int // by event id
}

func newReceiver(t *testing.T, respond func(r received, attempt int) int) *receiver {
	rc := &receiver{t: t, respond: respond, attempts: make(map[string]int)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

// newReceiverOn serves on a given listener (to come up on a known address).
func newReceiverOn(t *testing.T, ln net.Listener, respond func(r received, attempt int) int) *receiver {
	rc := &receiver{t: t, respond: respond, attempts: make(map[string]int)}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.srv.Listener.Close()
	rc.srv.Listener = ln
	rc.srv.Start()
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) URL() string { return rc.srv.URL }

func (rc *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r := received{Header: req.Header.Clone(), Body: body}
	r.ID, r.Key, r.N = parseTestEvent(body)
	rc.mu.Lock()
	rc.attempts[r.ID]++
	attempt := rc.attempts[r.ID]
	rc.all = append(rc.all, r)
	rc.mu.Unlock()
	status := http.StatusOK
	if rc.respond != nil {
		status = rc.respond(r, attempt)
	}
	if status >= 200 && status < 300 {
		rc.mu.Lock()
		rc.accepted = append(rc.accepted, r)
		rc.mu.Unlock()
	}
	w.WriteHeader(status)
}

func (rc *receiver) Accepted() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.accepted...)
}

func (rc *receiver) All() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.all...)
}

func (rc *receiver) Attempts(id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.attempts[id]
}

// parseTestEvent reads id, data.key and data.n from a one-event array of
// either schema.
func parseTestEvent(body []byte) (id, key string, n int) {
	var evs []struct {
		ID   string `json:"id"`
		Data struct {
			Key string `json:"key"`
			N   int    `json:"n"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &evs) != nil || len(evs) != 1 {
		return "", "", -1
	}
	return evs[0].ID, evs[0].Data.Key, evs[0].Data.N
}

// testDelivery renders a CloudEvent carrying key and n and addresses it.
func testDelivery(t *testing.T, url, key string, n int) Delivery {
	t.Helper()
	id, body, err := CloudEvent("CallConnected", key, map[string]any{"key": key, "n": n, "callConnectionId": key})
	if err != nil {
		t.Fatal(err)
	}
	return Delivery{URL: url, OrderKey: key, Body: body, Kind: KindCloudEvent, EventID: id, EventType: "Microsoft.Communication.CallConnected"}
}

// closedAddr returns an address nothing listens on (connection refused).
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// listenOn listens on addr again (the port was ours a moment ago).
func listenOn(t *testing.T, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("cannot rebind %s: %v", addr, err)
	}
	t.Skipf("cannot rebind %s (taken by another program?): %v", addr, err)
	return nil
}

// sequences groups accepted events by key, keeping arrival order.
func sequences(rs []received) map[string][]int {
	out := make(map[string][]int)
	for _, r := range rs {
		out[r.Key] = append(out[r.Key], r.N)
	}
	return out
}

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// tableRows runs the outbox's journal now (what its next batch would write:
// due inserts, every queued update and delete) and counts the table's rows.
// Deletes of delivered rows are written behind, so a count right after
// WaitIdle needs this.
func tableRows(t *testing.T, o *Outbox, db *sql.DB) int {
	t.Helper()
	if err := o.flush(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	return countRows(t, db, "outbox")
}
