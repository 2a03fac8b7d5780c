package api

import (
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestPaginate(t *testing.T) {
	all := []int{1, 2, 3, 4, 5}
	cases := []struct {
		skip, size int
		page       []int
		next       int
	}{
		{0, 2, []int{1, 2}, 2},
		{2, 2, []int{3, 4}, 4},
		{4, 2, []int{5}, 0},
		{0, 5, []int{1, 2, 3, 4, 5}, 0},
		{0, 100, []int{1, 2, 3, 4, 5}, 0},
		{9, 2, []int{}, 0},
	}
	for _, c := range cases {
		page, next := paginate(all, c.skip, c.size)
		if !reflect.DeepEqual(page, c.page) || next != c.next {
			t.Errorf("paginate(skip %d, size %d) = %v, %d; want %v, %d", c.skip, c.size, page, next, c.page, c.next)
		}
	}
}

func TestSplitAction(t *testing.T) {
	cases := map[string][2]string{
		"callConnections":        {"callConnections", ""},
		"callConnections:answer": {"callConnections", "answer"},
		"abc-123:play":           {"abc-123", "play"},
		"participants:add":       {"participants", "add"},
		"8%3Aacs%3Ares_user2":    {"8%3Aacs%3Ares_user2", ""},
	}
	for in, want := range cases {
		id, action := splitAction(in)
		if id != want[0] || action != want[1] {
			t.Errorf("splitAction(%q) = %q, %q", in, id, action)
		}
	}
}

// A duplicate that arrives while the first request runs waits and replays it.
func TestIdempotency(t *testing.T) {
	now := time.Unix(0, 0)
	d := newIdempotency(time.Minute, 10, func() time.Time { return now })
	e, first := d.begin("k")
	if !first {
		t.Fatal("first request not first")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e2, first2 := d.begin("k")
		if first2 {
			t.Error("duplicate ran again")
			return
		}
		<-e2.done
		if e2.status != 201 || string(e2.body) != "x" {
			t.Errorf("replayed %d %q", e2.status, e2.body)
		}
	}()
	d.finish("k", e, 201, http.Header{}, []byte("x"))
	wg.Wait()
	// A 5xx is forgotten so the retry runs.
	e, _ = d.begin("k5")
	d.finish("k5", e, 503, http.Header{}, nil)
	if _, first := d.begin("k5"); !first {
		t.Fatal("a failed request was replayed")
	}
	// Entries expire.
	now = now.Add(2 * time.Minute)
	if _, first := d.begin("k"); !first {
		t.Fatal("expired entry replayed")
	}
}
