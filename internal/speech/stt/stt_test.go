package stt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeDecoder records what it is given; block, when set, stalls Process
// until it is closed.
type fakeDecoder struct {
	mu        sync.Mutex
	got       []int16
	calls     int
	block     chan struct{}
	failAfter int // Process fails once this many samples arrived (0: never)
	result    Result
	err       error
	closed    atomic.Bool
	finishCtx context.Context
	waitCtx   bool // Finish waits for its context to end
}

func (d *fakeDecoder) Process(s []int16) error {
	if d.block != nil {
		<-d.block
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, s...)
	d.calls++
	if d.failAfter > 0 && len(d.got) >= d.failAfter {
		return fmt.Errorf("%w: fake decoder broke", ErrFailed)
	}
	return nil
}

func (d *fakeDecoder) Partial() (Hypothesis, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Hypothesis{Text: fmt.Sprintf("%d samples", len(d.got))}, true
}

func (d *fakeDecoder) Finish(ctx context.Context) (Result, error) {
	d.finishCtx = ctx
	if d.waitCtx {
		<-ctx.Done()
		return Result{PhraseIndex: -1}, ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.result
	r.Text = fmt.Sprintf("%s/%d", r.Text, len(d.got))
	return r, d.err
}

func (d *fakeDecoder) Close() { d.closed.Store(true) }

func ramp(n, from int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(from + i)
	}
	return s
}

func TestStreamDeliversEverythingInOrder(t *testing.T) {
	dec := &fakeDecoder{result: Result{Text: "ok", PhraseIndex: -1}}
	s := NewStream(dec, StreamOptions{Chunk: 30 * time.Millisecond})
	var want []int16
	for i := range 100 {
		f := ramp(160, i*160)
		want = append(want, f...)
		if err := s.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "ok/16000" {
		t.Fatalf("Text %q", res.Text)
	}
	if !slices.Equal(dec.got, want) {
		t.Fatalf("decoder got %d samples, not the %d written in order", len(dec.got), len(want))
	}
	if dec.calls < 100*160/240 {
		t.Errorf("%d Process calls: chunks larger than 30 ms?", dec.calls)
	}
	if res.Stats.Audio != 2*time.Second || res.Stats.Dropped != 0 {
		t.Errorf("stats %+v", res.Stats)
	}
	if err := s.Write(ramp(160, 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Finish: %v", err)
	}
	again, err2 := s.Finish(context.Background())
	if again.Text != res.Text || err2 != nil {
		t.Errorf("second Finish: %+v, %v", again, err2)
	}
	s.Close()
	if !dec.closed.Load() {
		t.Error("decoder not closed")
	}
	s.Close() // twice is fine
}

func TestStreamWriteNeverWaitsForASlowDecoder(t *testing.T) {
	dec := &fakeDecoder{block: make(chan struct{}), result: Result{PhraseIndex: -1}}
	s := NewStream(dec, StreamOptions{Buffer: time.Second})
	frame := ramp(160, 0)
	start := time.Now()
	var overflow int
	for range 100 { // 2 s into a 1 s buffer, with the decoder stuck
		if err := s.Write(frame); errors.Is(err, ErrOverflow) {
			overflow++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("100 writes took %v with a stuck decoder", took)
	}
	// The first chunk may already be inside Process: 50 frames fit in the
	// buffer, plus at most one chunk (100 ms, 5 frames) taken out.
	if overflow < 45 || overflow > 50 {
		t.Errorf("%d writes refused, want about 50", overflow)
	}
	allocs := testing.AllocsPerRun(100, func() { s.Write(frame) })
	if allocs != 0 {
		t.Errorf("a refused Write allocates %v times", allocs)
	}
	close(dec.block)
	res, err := s.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Dropped < 900*time.Millisecond || res.Stats.Audio+res.Stats.Dropped < 2*time.Second {
		t.Errorf("stats %+v: want about 1 s dropped of 2 s (+ the AllocsPerRun writes)", res.Stats)
	}
	s.Close()
}

func TestStreamWriteDoesNotAllocate(t *testing.T) {
	dec := &fakeDecoder{result: Result{PhraseIndex: -1}}
	s := NewStream(dec, StreamOptions{Buffer: time.Minute})
	defer s.Close()
	frame := ramp(160, 0)
	if allocs := testing.AllocsPerRun(500, func() { s.Write(frame) }); allocs != 0 {
		t.Fatalf("Write allocates %v times per frame", allocs)
	}
}

func TestStreamDecoderFailureIsSticky(t *testing.T) {
	dec := &fakeDecoder{failAfter: 320, result: Result{PhraseIndex: -1}}
	s := NewStream(dec, StreamOptions{})
	defer s.Close()
	s.Write(ramp(400, 0))
	deadline := time.Now().Add(2 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = s.Write(ramp(160, 0)); err != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Write after the decoder failed: %v", err)
	}
	if _, err := s.Finish(context.Background()); !errors.Is(err, ErrFailed) {
		t.Fatalf("Finish after the decoder failed: %v", err)
	}
}

func TestStreamFinishGivesUpWithItsContext(t *testing.T) {
	dec := &fakeDecoder{waitCtx: true}
	s := NewStream(dec, StreamOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := s.Finish(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Finish: %v", err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close hangs after Finish gave up")
	}
	if !dec.closed.Load() {
		t.Fatal("decoder not closed")
	}
}

func TestStreamCloseWithoutFinish(t *testing.T) {
	dec := &fakeDecoder{}
	s := NewStream(dec, StreamOptions{})
	s.Write(ramp(160, 0))
	s.Close()
	if !dec.closed.Load() {
		t.Fatal("decoder not closed")
	}
	if err := s.Write(ramp(160, 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if _, err := s.Finish(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Finish after Close: %v", err)
	}
}

func TestStreamPartial(t *testing.T) {
	dec := &fakeDecoder{result: Result{PhraseIndex: -1}}
	s := NewStream(dec, StreamOptions{PartialEvery: 100 * time.Millisecond})
	defer s.Close()
	if _, ok := s.Partial(); ok {
		t.Fatal("partial before any audio")
	}
	s.Write(ramp(1600, 0))
	deadline := time.Now().Add(2 * time.Second)
	for {
		if h, ok := s.Partial(); ok && strings.HasSuffix(h.Text, "samples") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no partial hypothesis")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeEngine starts fake sessions.
type fakeEngine struct {
	name   string
	lang   error
	starts atomic.Int32
	fail   error
}

func (e *fakeEngine) Name() string               { return e.name }
func (e *fakeEngine) Supports(lang string) error { return e.lang }
func (e *fakeEngine) Start(ctx context.Context, o Options) (Session, error) {
	if e.fail != nil {
		return nil, e.fail
	}
	e.starts.Add(1)
	return NewStream(&fakeDecoder{result: Result{Text: e.name, PhraseIndex: -1}}, StreamOptions{}), nil
}

func TestPoolLimitsAndQueues(t *testing.T) {
	p := NewPool(&fakeEngine{name: "fake"}, PoolOptions{MaxSessions: 2, MaxWaiting: 1, MaxWait: time.Second})
	ctx := context.Background()
	a, err := p.Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		s, err := p.Start(ctx, Options{})
		if err == nil {
			s.Close()
		}
		waited <- err
	}()
	for p.Stats().Waiting != 1 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	_, err = p.Start(ctx, Options{})
	if !errors.Is(err, ErrBusy) || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("fourth Start: %v after %v, want ErrBusy at once", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "2 sessions open and 1 waiting") {
		t.Errorf("ErrBusy message %q", err)
	}
	a.Close()
	if err := <-waited; err != nil {
		t.Fatalf("queued Start: %v", err)
	}
	a.Close() // a second Close must not free a second slot
	b.Close()
	st := p.Stats()
	if st.Active != 0 || st.Waiting != 0 || st.Started != 3 || st.Rejected != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPoolWaitTimesOutAndContextCancels(t *testing.T) {
	p := NewPool(&fakeEngine{name: "fake"}, PoolOptions{MaxSessions: 1, MaxWait: 30 * time.Millisecond})
	s, err := p.Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := p.Start(context.Background(), Options{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("Start after MaxWait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Start(ctx, Options{}); !errors.Is(err, context.Canceled) || errors.Is(err, ErrBusy) {
		t.Fatalf("Start with a cancelled context: %v", err)
	}
	if st := p.Stats(); st.Active != 1 || st.Waiting != 0 {
		t.Fatalf("stats %+v", st)
	}
	noQueue := NewPool(&fakeEngine{name: "fake"}, PoolOptions{MaxSessions: 1, MaxWaiting: -1})
	s2, _ := noQueue.Start(context.Background(), Options{})
	defer s2.Close()
	if _, err := noQueue.Start(context.Background(), Options{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("no queue: %v", err)
	}
}

func TestPoolFreesTheSlotWhenStartFails(t *testing.T) {
	p := NewPool(&fakeEngine{name: "fake", fail: fmt.Errorf("%w: broken", ErrUnavailable)}, PoolOptions{MaxSessions: 1})
	for range 3 {
		if _, err := p.Start(context.Background(), Options{}); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Start: %v", err)
		}
	}
	if st := p.Stats(); st.Active != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPoolConcurrentStress(t *testing.T) {
	p := NewPool(&fakeEngine{name: "fake"}, PoolOptions{MaxSessions: 3, MaxWaiting: 5, MaxWait: 20 * time.Millisecond})
	var wg sync.WaitGroup
	var maxActive atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+time.Now().UnixNano()%20)*time.Millisecond)
			defer cancel()
			s, err := p.Start(ctx, Options{})
			if err != nil {
				return
			}
			if n := int32(p.Stats().Active); n > maxActive.Load() {
				maxActive.Store(n)
			}
			time.Sleep(2 * time.Millisecond)
			s.Close()
		}()
	}
	wg.Wait()
	if st := p.Stats(); st.Active != 0 || st.Waiting != 0 || maxActive.Load() > 3 {
		t.Fatalf("stats %+v, max active %d", st, maxActive.Load())
	}
}

func TestRouter(t *testing.T) {
	sphinx := &fakeEngine{name: "pocketsphinx"}
	cloud := &fakeEngine{name: "http"}
	broken := &fakeEngine{name: "broken", lang: fmt.Errorf("%w: not installed", ErrUnavailable)}
	r, err := NewRouter(RouterConfig{
		Default:   "pocketsphinx",
		Languages: map[string]string{"es": "http", "fr-ca": "http", "de-DE": "broken"},
	}, map[string]Engine{"pocketsphinx": sphinx, "http": cloud, "broken": broken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"en-US": "pocketsphinx", "es-MX": "http", "ES": "http", "fr-CA": "http", "fr-FR": "pocketsphinx"} {
		e, err := r.Engine(lang)
		if err != nil || e.Name() != want {
			t.Errorf("Engine(%s) = %v, %v; want %s", lang, e, err, want)
		}
	}
	if _, err := r.Engine("de-DE"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), `"broken"`) {
		t.Errorf("Engine(de-DE): %v", err)
	}
	if _, err := r.Engine("not a tag!"); !errors.Is(err, ErrLanguage) {
		t.Errorf("Engine(bad tag): %v", err)
	}
	s, err := r.Start(context.Background(), Options{Language: "es-ES"})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := s.Finish(context.Background())
	s.Close()
	if !strings.HasPrefix(res.Text, "http") {
		t.Errorf("es-ES went to %q", res.Text)
	}

	only, err := NewRouter(RouterConfig{Languages: map[string]string{"en": "pocketsphinx"}}, map[string]Engine{"pocketsphinx": sphinx}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := only.Supports("ja-JP"); !errors.Is(err, ErrLanguage) || !strings.Contains(err.Error(), "ja-JP") {
		t.Errorf("no default: %v", err)
	}
	if _, err := only.Start(context.Background(), Options{Language: "ja-JP"}); !errors.Is(err, ErrLanguage) {
		t.Errorf("Start(ja-JP): %v", err)
	}
}

func TestRouterConfigErrors(t *testing.T) {
	engines := map[string]Engine{"a": &fakeEngine{name: "a"}}
	for _, cfg := range []RouterConfig{
		{Default: "b"},
		{Languages: map[string]string{"en": "b"}},
		{Languages: map[string]string{"!!": "a"}},
	} {
		if _, err := NewRouter(cfg, engines, nil); err == nil {
			t.Errorf("NewRouter(%+v) accepted", cfg)
		}
	}
}

func TestCanonicalLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"en-us": "en-US", "EN_gb": "en-GB", "zh-hant-tw": "zh-Hant-TW", "es-419": "es-419", "fr": "fr", " de-DE ": "de-DE", "yue-HK": "yue-HK",
	} {
		if got, err := CanonicalLanguage(in); err != nil || got != want {
			t.Errorf("CanonicalLanguage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "e", "en--us", "en-US!", "1en", "en-toolongsubtag"} {
		if _, err := CanonicalLanguage(bad); !errors.Is(err, ErrLanguage) {
			t.Errorf("CanonicalLanguage(%q): %v", bad, err)
		}
	}
	if PrimaryLanguage("en-US") != "en" || PrimaryLanguage("yue-HK") != "yue" || PrimaryLanguage("??") != "" {
		t.Error("PrimaryLanguage")
	}
}

func TestWordsAndMatchPhrases(t *testing.T) {
	if got := Words("  Billing, please!  Don't—wait 'sales' "); !slices.Equal(got, []string{"billing", "please", "don't", "wait", "sales"}) {
		t.Errorf("Words = %q", got)
	}
	phrases := []string{"Billing", "Sales", "Customer Service", "Yes"}
	for _, c := range []struct {
		said      string
		index     int
		min, max_ float64
	}{
		{"billing", 0, 1, 1},
		{"Billing.", 0, 1, 1},
		{"billing please", 0, 0.8, 0.9},
		{"I'd like to talk to customer service please", 2, 0.75, 0.85},
		{"customer", 2, 0.45, 0.6},
		{"sales not billing", 0, 0.4, 0.45}, // ambiguous: halved
		{"the weather", -1, 0, 0},
		{"", -1, 0, 0},
	} {
		m := MatchPhrases(c.said, phrases)
		if m.Index != c.index || m.Score < c.min || m.Score > c.max_ {
			t.Errorf("MatchPhrases(%q) = %+v, want index %d score in [%.2f, %.2f]", c.said, m, c.index, c.min, c.max_)
		}
	}
}

func TestOptions(t *testing.T) {
	if (Options{}).Rate() != 8000 || (Options{SampleRate: 16000}).Rate() != 16000 {
		t.Error("Rate")
	}
	if (Options{}).Grammar() || !(Options{Phrases: []string{"a"}}).Grammar() {
		t.Error("Grammar")
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"a b c", "a b c", 0},
		{"a b c", "a c", 1},
		{"a c", "a b c", 1},
		{"a b c", "a x c", 1},
		{"", "a b", 2},
		{"kitten sitting", "sitting kitten", 2},
		{"R IH P AO R T", "S AH P AO R T", 2}, // "report", "support"
		{"S EY L", "S EY L Z", 1},             // "sale", "sales"
	} {
		if got := EditDistance(strings.Fields(c.a), strings.Fields(c.b)); got != c.want {
			t.Errorf("%q → %q: %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
