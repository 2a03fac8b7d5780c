package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// Records queued on the writer are all in the table once Run returns, and a
// full queue refuses instead of blocking the call that ends.
func TestRecordWriter(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), "res1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := s.NewRecordWriter(slog.New(slog.DiscardHandler), 300)
	start := time.UnixMilli(1_700_000_000_000)
	for i := range 300 {
		r := CallRecord{ServerCallID: fmt.Sprintf("call-%03d", i), Direction: "inbound", From: "4:+1555", To: "4:+1666",
			StartedAt: start.Add(time.Duration(i) * time.Second), EndedAt: start.Add(time.Hour), EndReason: "hangup-api"}
		if err := w.SaveCallRecord(ctx, r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if err := w.SaveCallRecord(ctx, CallRecord{ServerCallID: "one-too-many"}); !errors.Is(err, ErrRecordQueueFull) {
		t.Fatalf("full queue: %v", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- w.Run(rctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs, err := s.CallRecords(ctx, time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 300 || recs[0].ServerCallID != "call-299" || recs[299].ServerCallID != "call-000" {
		t.Fatalf("%d records, first %q", len(recs), recs[0].ServerCallID)
	}
}
