package events

import (
	"slices"
	"testing"
)

func TestFifo(t *testing.T) {
	var q fifo[int]
	if q.len() != 0 || q.peek() != 0 {
		t.Fatal("empty queue")
	}
	for i := range 3000 {
		q.push(i)
	}
	for i := range 2000 { // crosses the compaction threshold
		if v := q.pop(); v != i {
			t.Fatalf("pop %d, want %d", v, i)
		}
	}
	q.removeItem(2500)
	q.removeItem(99999) // absent
	q.keep(func(v int) bool { return v%2 == 0 })
	want := []int{}
	for i := 2000; i < 3000; i += 2 {
		if i != 2500 {
			want = append(want, i)
		}
	}
	if !slices.Equal(q.live(), want) || q.len() != len(want) || q.peek() != 2000 {
		t.Fatalf("queue %v..., len %d", q.live()[:5], q.len())
	}
	for q.len() > 0 {
		q.pop()
	}
	q.push(7)
	if q.peek() != 7 || q.len() != 1 {
		t.Fatal("reuse after draining")
	}
}
