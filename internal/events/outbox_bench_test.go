package events

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// BenchmarkOutboxDeliver measures the whole path of one callback event:
// queuing it, a worker picking it up, signing, the HTTP POST to a local
// receiver, and forgetting it. Events are spread over 64 calls (keys). The
// loop enqueues as fast as it can, so with a large b.N a backlog builds up
// and events that wait longer than PersistAfter are also written to the
// table and deleted (reported as persisted/op).
func BenchmarkOutboxDeliver(b *testing.B) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "bench.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := Migrate(context.Background(), db); err != nil {
		b.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	signer, err := NewSigner(key, "https://switchboard.test", log)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	o, err := NewOutbox(db, signer, nil, log, OutboxOptions{Audience: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	defer func() { cancel(); <-done }()
	_, body, err := CloudEvent("CallConnected", "conn", map[string]any{"callConnectionId": "conn"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := fmt.Sprintf("conn:%d", i%64)
		if err := o.Enqueue(ctx, Delivery{URL: srv.URL, OrderKey: k, Body: body, Kind: KindCloudEvent, EventType: "Microsoft.Communication.CallConnected"}); err != nil {
			b.Fatal(err)
		}
	}
	if err := o.WaitIdle(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	// Events that waited longer than PersistAfter (the loop enqueues faster
	// than the receiver takes them) were written and deleted.
	b.ReportMetric(float64(o.Stats().Persisted)/float64(b.N), "persisted/op")
}
