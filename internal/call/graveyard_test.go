package call

import (
	"fmt"
	"testing"
	"time"
)

func TestGraveyardExpiresInOrder(t *testing.T) {
	g := newGraveyard(time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 200 {
		g.lay(fmt.Sprint("call-", i), tombstone{at: t0.Add(time.Duration(i) * time.Second), reason: "hangup"})
	}
	// Laid at 0..199 s; the last lay (199 s) expired everything older than 139 s.
	if _, ok := g.get("call-138"); ok {
		t.Error("call-138 (61 s old) still remembered")
	}
	if tb, ok := g.get("call-139"); !ok || tb.reason != "hangup" {
		t.Errorf("call-139 (60 s old) forgotten: %+v %v", tb, ok)
	}
	if n := g.len(); n != 61 {
		t.Errorf("%d tombstones kept, want 61", n)
	}
	// A tombstone laid again is kept until its newer time expires.
	g.lay("call-150", tombstone{at: t0.Add(250 * time.Second), reason: "app-left"})
	g.lay("late", tombstone{at: t0.Add(300 * time.Second)})
	if tb, ok := g.get("call-150"); !ok || tb.reason != "app-left" {
		t.Errorf("re-laid call-150 forgotten with its first burial: %+v %v", tb, ok)
	}
	if _, ok := g.get("call-199"); ok {
		t.Error("call-199 (101 s old) still remembered")
	}
	if len(g.order)-g.head != g.len() {
		t.Errorf("queue holds %d burials for %d tombstones", len(g.order)-g.head, g.len())
	}
}

// BenchmarkGraveyardLay lays a tombstone with 100,000 recent ones kept,
// as at 170 calls/s with the default 10-minute TTL: the cost must not
// grow with the number kept.
func BenchmarkGraveyardLay(b *testing.B) {
	g := newGraveyard(10 * time.Minute)
	t0 := time.Now()
	for i := range 100_000 {
		g.lay(fmt.Sprint("warm-", i), tombstone{at: t0})
	}
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = fmt.Sprint("call-", i)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		g.lay(ids[i%len(ids)], tombstone{at: t0.Add(time.Duration(i) * time.Microsecond)})
	}
}
