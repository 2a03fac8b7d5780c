package tts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeSynth returns a WAV of size bytes naming the request, counting calls.
// With gate set, calls block until it is closed (or their context ends).
type fakeSynth struct {
	calls atomic.Int32
	size  int
	gate  chan struct{}
	fail  atomic.Bool
}

func (f *fakeSynth) Synthesize(ctx context.Context, r Request) ([]byte, error) {
	f.calls.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fail.Load() {
		return nil, errors.New("engine failed")
	}
	b := make([]byte, f.size)
	copy(b, fmt.Sprintf("%s|%s|%s", r.Text, r.SSML, r.VoiceName))
	return b, nil
}

func TestCacheHitsAndMisses(t *testing.T) {
	inner := &fakeSynth{size: 100}
	c := NewCache(inner, 1000)
	ctx := context.Background()
	say := func(r Request) []byte {
		t.Helper()
		b, err := c.Synthesize(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name  string
		r     Request
		calls int32 // inner calls after this request
	}{
		{"first", Request{Text: "Hello", VoiceName: "en-US-JennyNeural"}, 1},
		{"identical: hit", Request{Text: "Hello", VoiceName: "en-US-JennyNeural"}, 1},
		{"normalized: hit", Request{Text: "  Hello ", VoiceName: "EN-US-JENNYNEURAL "}, 1},
		{"different voice: miss", Request{Text: "Hello", VoiceName: "en-US-GuyNeural"}, 2},
		{"different locale: miss", Request{Text: "Hello", VoiceName: "en-US-JennyNeural", Locale: "fr-FR"}, 3},
		{"different kind: miss", Request{Text: "Hello", VoiceName: "en-US-JennyNeural", VoiceKind: "male"}, 4},
		{"different text: miss", Request{Text: "Hello!", VoiceName: "en-US-JennyNeural"}, 5},
		{"same words as SSML: miss", Request{SSML: "Hello", VoiceName: "en-US-JennyNeural"}, 6},
	}
	for _, tt := range tests {
		say(tt.r)
		if got := inner.calls.Load(); got != tt.calls {
			t.Errorf("%s: %d inner calls, want %d", tt.name, got, tt.calls)
		}
	}
	// Callers get their own copies.
	a := say(Request{Text: "Hello", VoiceName: "en-US-JennyNeural"})
	a[0] = 'X'
	if b := say(Request{Text: "Hello", VoiceName: "en-US-JennyNeural"}); b[0] != 'H' {
		t.Error("a caller's change leaked into the cache")
	}
}

func TestCacheLRUEviction(t *testing.T) {
	inner := &fakeSynth{size: 100}
	c := NewCache(inner, 250).(*cache) // room for two entries
	ctx := context.Background()
	say := func(text string) {
		t.Helper()
		if _, err := c.Synthesize(ctx, Request{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	say("a")
	say("b")
	say("a") // a is now the most recent
	say("c") // evicts b
	if n := inner.calls.Load(); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
	say("a")
	say("c")
	if n := inner.calls.Load(); n != 3 {
		t.Fatalf("a or c was evicted: %d calls", n)
	}
	say("b")
	if n := inner.calls.Load(); n != 4 {
		t.Fatalf("b was not evicted: %d calls", n)
	}
	if c.size > 250 || c.lru.Len() != 2 {
		t.Fatalf("size %d bytes in %d entries", c.size, c.lru.Len())
	}
	// A WAV larger than the whole cache is returned, not stored.
	big := NewCache(&fakeSynth{size: 300}, 250).(*cache)
	if _, err := big.Synthesize(ctx, Request{Text: "x"}); err != nil || big.lru.Len() != 0 {
		t.Fatalf("oversized entry: err %v, %d entries", err, big.lru.Len())
	}
}

func TestCacheDoesNotCacheErrors(t *testing.T) {
	inner := &fakeSynth{size: 10}
	inner.fail.Store(true)
	c := NewCache(inner, 1000)
	r := Request{Text: "hi"}
	if _, err := c.Synthesize(context.Background(), r); err == nil {
		t.Fatal("no error")
	}
	inner.fail.Store(false)
	if _, err := c.Synthesize(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if n := inner.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
	// Requests the engine rejects bypass the cache.
	if _, err := c.Synthesize(context.Background(), Request{Text: "a", SSML: "b"}); err != nil {
		t.Fatalf("fake inner rejects nothing, got %v", err)
	}
}

// waiters returns how many callers wait for the flight of r.
func (c *cache) waiters(r Request) int {
	k, _ := c.key(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.inflight[k]; f != nil {
		return f.waiters
	}
	return 0
}

func TestCacheSharesConcurrentSynthesis(t *testing.T) {
	inner := &fakeSynth{size: 10, gate: make(chan struct{})}
	c := NewCache(inner, 1000).(*cache)
	r := Request{Text: "same"}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = c.Synthesize(context.Background(), r) })
	}
	waitFor(t, "all callers to wait", func() bool { return c.waiters(r) == n })
	close(inner.gate)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := inner.calls.Load(); got != 1 {
		t.Fatalf("%d inner calls for %d identical concurrent requests", got, n)
	}
}

func TestCacheCancellation(t *testing.T) {
	inner := &fakeSynth{size: 10, gate: make(chan struct{})}
	c := NewCache(inner, 1000).(*cache)
	r := Request{Text: "slow"}

	// One of two waiters gives up: the synthesis goes on for the other.
	ctx1, cancel1 := context.WithCancel(context.Background())
	res1, res2 := make(chan error, 1), make(chan error, 1)
	go func() { _, err := c.Synthesize(ctx1, r); res1 <- err }()
	go func() { _, err := c.Synthesize(context.Background(), r); res2 <- err }()
	waitFor(t, "two waiters", func() bool { return c.waiters(r) == 2 })
	cancel1()
	if err := <-res1; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(inner.gate)
	if err := <-res2; err != nil {
		t.Fatalf("remaining caller: %v", err)
	}

	// The only waiter gives up: the synthesis is cancelled and not cached.
	inner2 := &fakeSynth{size: 10, gate: make(chan struct{})}
	c2 := NewCache(inner2, 1000).(*cache)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { _, err := c2.Synthesize(ctx, r); res <- err }()
	waitFor(t, "one waiter", func() bool { return c2.waiters(r) == 1 })
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	waitFor(t, "the abandoned synthesis to end", func() bool {
		c2.mu.Lock()
		defer c2.mu.Unlock()
		return len(c2.inflight) == 0 && c2.lru.Len() == 0
	})
	close(inner2.gate)
	if _, err := c2.Synthesize(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if n := inner2.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want 2 (the abandoned one and a fresh one)", n)
	}
}

func TestCacheUsesEngineKey(t *testing.T) {
	e, _ := newFake(t, `cat "$D/canned.wav"`, EspeakOptions{})
	c := NewCache(e, 1<<20)
	ctx := context.Background()
	for _, r := range []Request{
		{Text: "Hello", VoiceName: "en-US-JennyNeural"},
		{Text: "Hello", VoiceName: "en-US-AriaNeural"},        // also en-us+f3: hit
		{Text: "Hello", Locale: "en-US", VoiceKind: "female"}, // also en-us+f3: hit
	} {
		if _, err := c.Synthesize(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.(*cache).lru.Len(); n != 1 {
		t.Fatalf("%d entries, want 1", n)
	}
	if _, err := c.Synthesize(ctx, Request{Text: "Hello", VoiceName: "en-US-GuyNeural"}); err != nil {
		t.Fatal(err)
	}
	if n := c.(*cache).lru.Len(); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
	// Engine errors come through and are not cached.
	for range 2 {
		if _, err := c.Synthesize(ctx, Request{SSML: "<speak>"}); !errors.Is(err, ErrInvalidSSML) {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestNewCacheDisabled(t *testing.T) {
	inner := &fakeSynth{}
	if NewCache(inner, 0) != Synthesizer(inner) {
		t.Fatal("maxBytes 0 should return the synthesizer itself")
	}
}
