package audio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock for cache ages.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// audioServer serves one file and counts requests.
type audioServer struct {
	mu           sync.Mutex
	body         []byte
	status       int    // 0: 200
	etag         string // sent and honoured in If-None-Match
	lastMod      string // sent and honoured in If-Modified-Since
	cacheControl string
	noLength     bool          // stream without Content-Length
	gate         chan struct{} // when set, responses wait for it
	entered      chan struct{} // when set, signalled on each request

	requests    int
	conditional int
	paths       []string
}

func (s *audioServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.paths = append(s.paths, r.URL.Path)
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if inm != "" || ims != "" {
		s.conditional++
	}
	body, status, etag, lastMod, cc, noLength := s.body, s.status, s.etag, s.lastMod, s.cacheControl, s.noLength
	gate, entered := s.gate, s.entered
	s.mu.Unlock()

	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	if lastMod != "" {
		w.Header().Set("Last-Modified", lastMod)
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	if (etag != "" && inm == etag) || (etag == "" && lastMod != "" && ims == lastMod) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if status != 0 && status != http.StatusOK {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if noLength {
		for len(body) > 0 {
			n := min(len(body), 1000)
			w.Write(body[:n])
			w.(http.Flusher).Flush()
			body = body[n:]
		}
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Write(body)
}

func (s *audioServer) counts() (requests, conditional int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.conditional
}

func (s *audioServer) set(fn func(s *audioServer)) {
	s.mu.Lock()
	fn(s)
	s.mu.Unlock()
}

// toneWAV is a 16 kHz mono WAV of a tone, dur long.
func toneWAV(freq float64, dur time.Duration) []byte {
	s := wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: 16000}
	return s.makeWAV(int(dur.Seconds()*16000), toneGen(freq, 16000, 0.5, 1))
}

func newTestFetcher(t *testing.T, clock *fakeClock, opt FetcherOptions) *Fetcher {
	t.Helper()
	opt.Now = clock.Now
	return NewFetcher(nil, opt, nil)
}

func serve(t *testing.T, s *audioServer) string {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestFetcherGetAndCache(t *testing.T) {
	srv := &audioServer{body: toneWAV(1000, 500*time.Millisecond)}
	url := serve(t, srv) + "/prompt.wav"
	clock := newFakeClock()
	f := newTestFetcher(t, clock, FetcherOptions{})

	p, err := f.Prompt(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	checkTone(t, p.Samples, 1000, 0.5*32768, 0.1)
	if p.Duration() != 500*time.Millisecond {
		t.Errorf("duration %v", p.Duration())
	}
	clock.Advance(DefaultMaxAge - time.Second)
	p2, err := f.Prompt(context.Background(), url, "")
	if err != nil || p2 != p {
		t.Fatalf("second call: %v, same prompt %v", err, p2 == p)
	}
	if n, _ := srv.counts(); n != 1 {
		t.Errorf("%d requests within MaxAge, want 1", n)
	}
}

func TestFetcherStatusErrors(t *testing.T) {
	for _, status := range []int{404, 403, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := &audioServer{status: status}
			url := serve(t, srv) + "/missing.wav?sig=SECRET"
			f := newTestFetcher(t, newFakeClock(), FetcherOptions{})
			_, err := f.Prompt(context.Background(), url, "")
			if !errors.Is(err, ErrDownload) {
				t.Fatalf("err = %v, want ErrDownload", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(status)) {
				t.Errorf("status missing from %q", err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("query string leaked into %q", err)
			}
		})
	}
}

func TestFetcherTooLarge(t *testing.T) {
	body := toneWAV(1000, time.Second) // 32 KB
	for _, noLength := range []bool{false, true} {
		t.Run(fmt.Sprintf("noLength=%v", noLength), func(t *testing.T) {
			srv := &audioServer{body: body, noLength: noLength}
			url := serve(t, srv) + "/big.wav"
			f := newTestFetcher(t, newFakeClock(), FetcherOptions{MaxFileBytes: 10000})
			if _, err := f.Prompt(context.Background(), url, ""); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			// Exactly at the limit is fine.
			f = newTestFetcher(t, newFakeClock(), FetcherOptions{MaxFileBytes: int64(len(body))})
			if _, err := f.Prompt(context.Background(), url, ""); err != nil {
				t.Fatalf("at the limit: %v", err)
			}
		})
	}
}

func TestFetcherETagRevalidation(t *testing.T) {
	srv := &audioServer{body: toneWAV(1000, 200*time.Millisecond), etag: `"v1"`}
	url := serve(t, srv) + "/a.wav"
	clock := newFakeClock()
	f := newTestFetcher(t, clock, FetcherOptions{MaxAge: time.Minute})
	ctx := context.Background()

	p1, err := f.Prompt(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second) // within MaxAge: no request
	if p, _ := f.Prompt(ctx, url, ""); p != p1 {
		t.Fatal("different prompt within MaxAge")
	}
	if n, c := srv.counts(); n != 1 || c != 0 {
		t.Fatalf("requests %d/%d conditional, want 1/0", n, c)
	}
	clock.Advance(2 * time.Second) // stale: conditional GET, 304
	if p, err := f.Prompt(ctx, url, ""); err != nil || p != p1 {
		t.Fatalf("after 304: %v, same prompt %v", err, p == p1)
	}
	if n, c := srv.counts(); n != 2 || c != 1 {
		t.Fatalf("requests %d/%d conditional, want 2/1", n, c)
	}
	clock.Advance(59 * time.Second) // the 304 made it fresh again
	f.Prompt(ctx, url, "")
	if n, _ := srv.counts(); n != 2 {
		t.Fatalf("%d requests after the 304 refreshed the entry, want 2", n)
	}
	// The file changes: the conditional GET gets a 200 and the new audio.
	srv.set(func(s *audioServer) { s.body, s.etag = toneWAV(2000, 200*time.Millisecond), `"v2"` })
	clock.Advance(2 * time.Second)
	p2, err := f.Prompt(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	if p2 == p1 {
		t.Fatal("old prompt after the file changed")
	}
	checkTone(t, p2.Samples, 2000, 0.5*32768, 0.1)
	if n, c := srv.counts(); n != 3 || c != 2 {
		t.Fatalf("requests %d/%d conditional, want 3/2", n, c)
	}
}

func TestFetcherLastModified(t *testing.T) {
	srv := &audioServer{body: toneWAV(1000, 100*time.Millisecond), lastMod: "Wed, 01 Jan 2025 00:00:00 GMT"}
	url := serve(t, srv) + "/a.wav"
	clock := newFakeClock()
	f := newTestFetcher(t, clock, FetcherOptions{})
	p1, _ := f.Prompt(context.Background(), url, "")
	clock.Advance(DefaultMaxAge + time.Second)
	p2, err := f.Prompt(context.Background(), url, "")
	if err != nil || p2 != p1 {
		t.Fatalf("%v, same %v", err, p1 == p2)
	}
	if n, c := srv.counts(); n != 2 || c != 1 {
		t.Fatalf("requests %d/%d conditional, want 2/1", n, c)
	}
}

func TestFetcherCacheControl(t *testing.T) {
	cases := []struct {
		cc          string
		advance     time.Duration
		requests    int // after three calls, advancing between them
		conditional int
	}{
		{"max-age=60", 61 * time.Second, 3, 2},   // shorter than MaxAge
		{"max-age=3600", 10 * time.Minute, 1, 0}, // longer than MaxAge
		{"no-cache", 0, 3, 2},                    // revalidate on every use
		{"no-store", 0, 3, 0},                    // never stored
		{"public, max-age=0", 0, 3, 2},
	}
	for _, tc := range cases {
		t.Run(tc.cc, func(t *testing.T) {
			srv := &audioServer{body: toneWAV(1000, 100*time.Millisecond), etag: `"x"`, cacheControl: tc.cc}
			url := serve(t, srv) + "/a.wav"
			clock := newFakeClock()
			f := newTestFetcher(t, clock, FetcherOptions{})
			for i := 0; i < 3; i++ {
				if _, err := f.Prompt(context.Background(), url, ""); err != nil {
					t.Fatal(err)
				}
				clock.Advance(tc.advance)
			}
			if n, c := srv.counts(); n != tc.requests || c != tc.conditional {
				t.Errorf("requests %d/%d conditional, want %d/%d", n, c, tc.requests, tc.conditional)
			}
		})
	}
}

func TestFetcherCacheID(t *testing.T) {
	srv := &audioServer{body: toneWAV(1000, 100*time.Millisecond)}
	base := serve(t, srv)
	f := newTestFetcher(t, newFakeClock(), FetcherOptions{})
	ctx := context.Background()
	p1, err := f.Prompt(ctx, base+"/one.wav", "greeting")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := f.Prompt(ctx, base+"/two.wav", "greeting")
	if err != nil || p2 != p1 {
		t.Fatalf("same cache ID: %v, same prompt %v", err, p1 == p2)
	}
	// Without the ID the URL is the key.
	p3, _ := f.Prompt(ctx, base+"/two.wav", "")
	if p3 == p1 {
		t.Error("URL key shares the cache ID's entry")
	}
	if got := strings.Join(srv.paths, ","); got != "/one.wav,/two.wav" {
		t.Errorf("requested %s", got)
	}
}

func TestFetcherSharedDownload(t *testing.T) {
	srv := &audioServer{body: toneWAV(1000, 100*time.Millisecond), gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	url := serve(t, srv) + "/a.wav"
	f := newTestFetcher(t, newFakeClock(), FetcherOptions{})
	const callers = 10
	results := make(chan *Prompt, callers)
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
		go func() {
			p, err := f.Prompt(context.Background(), url, "")
			results <- p
			errs <- err
		}()
	}
	<-srv.entered // the download has started
	waitFor(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		fl := f.flights["url:"+url]
		return fl != nil && fl.waiters == callers
	})
	close(srv.gate)
	var first *Prompt
	for i := 0; i < callers; i++ {
		p := <-results
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = p
		} else if p != first {
			t.Fatal("callers got different prompts")
		}
	}
	if n, _ := srv.counts(); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
}

// waitFor polls cond, yielding, until it holds (the test's own timeout
// bounds it).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		runtime.Gosched()
	}
}

func TestFetcherCallerCancel(t *testing.T) {
	srv := &audioServer{body: toneWAV(1000, 100*time.Millisecond), gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	url := serve(t, srv) + "/a.wav"
	f := newTestFetcher(t, newFakeClock(), FetcherOptions{})

	// Two callers share a download; one gives up, the other still gets it.
	ctx1, cancel1 := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { _, err := f.Prompt(ctx1, url, ""); done1 <- err }()
	<-srv.entered
	done2 := make(chan *Prompt, 1)
	go func() { p, _ := f.Prompt(context.Background(), url, ""); done2 <- p }()
	waitFor(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		fl := f.flights["url:"+url]
		return fl != nil && fl.waiters == 2
	})
	cancel1()
	if err := <-done1; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	close(srv.gate)
	if p := <-done2; p == nil {
		t.Error("remaining caller got no prompt")
	}
}

func TestFetcherAllCallersCancel(t *testing.T) {
	// When the only caller gives up, the download is abandoned and the
	// next call starts a new one.
	srv := &audioServer{body: toneWAV(1000, 100*time.Millisecond), gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	url := serve(t, srv) + "/a.wav"
	f := newTestFetcher(t, newFakeClock(), FetcherOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := f.Prompt(ctx, url, ""); errc <- err }()
	<-srv.entered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	close(srv.gate)
	if _, err := f.Prompt(context.Background(), url, ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := srv.counts(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestFetcherCancelledRevalidation(t *testing.T) {
	// A revalidation abandoned by its only caller must not mark the stale
	// entry fresh.
	srv := &audioServer{body: toneWAV(1000, 100*time.Millisecond), etag: `"v1"`}
	url := serve(t, srv) + "/a.wav"
	clock := newFakeClock()
	f := newTestFetcher(t, clock, FetcherOptions{})
	if _, err := f.Prompt(context.Background(), url, ""); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultMaxAge + time.Second)
	gate := make(chan struct{})
	srv.set(func(s *audioServer) { s.gate, s.entered = gate, make(chan struct{}, 10) })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := f.Prompt(ctx, url, ""); errc <- err }()
	<-srv.entered
	f.mu.Lock()
	fl := f.flights["url:"+url]
	f.mu.Unlock()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	<-fl.done
	close(gate)
	if _, err := f.Prompt(context.Background(), url, ""); err != nil {
		t.Fatal(err)
	}
	if n, c := srv.counts(); n != 3 || c != 2 {
		t.Errorf("requests %d/%d conditional, want 3/2", n, c)
	}
}

func TestFetcherTimeout(t *testing.T) {
	srv := &audioServer{body: toneWAV(1000, 100*time.Millisecond), gate: make(chan struct{})} // never opens
	url := serve(t, srv) + "/slow.wav"
	f := newTestFetcher(t, newFakeClock(), FetcherOptions{Timeout: 50 * time.Millisecond})
	_, err := f.Prompt(context.Background(), url, "")
	if !errors.Is(err, ErrDownload) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrDownload wrapping DeadlineExceeded", err)
	}
}

func TestFetcherUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	f := newTestFetcher(t, newFakeClock(), FetcherOptions{})
	_, err = f.Prompt(context.Background(), "http://"+addr+"/a.wav?token=SECRET", "")
	if !errors.Is(err, ErrDownload) {
		t.Fatalf("err = %v, want ErrDownload", err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("query string leaked into %q", err)
	}
}

func TestFetcherBadURLs(t *testing.T) {
	f := newTestFetcher(t, newFakeClock(), FetcherOptions{})
	for _, u := range []string{"ftp://example.com/a.wav", "file:///etc/passwd", "a.wav", "http:///a.wav", "http://[::1", ""} {
		if _, err := f.Prompt(context.Background(), u, ""); !errors.Is(err, ErrDownload) {
			t.Errorf("%q: %v, want ErrDownload", u, err)
		}
	}
}

func TestFetcherDecodeErrors(t *testing.T) {
	srv := &audioServer{body: []byte("<html>this is not audio</html>")}
	url := serve(t, srv) + "/a.wav"
	f := newTestFetcher(t, newFakeClock(), FetcherOptions{})
	for i := 0; i < 2; i++ { // not cached: both calls download
		if _, err := f.Prompt(context.Background(), url, ""); !errors.Is(err, ErrUnsupportedFormat) {
			t.Fatalf("err = %v, want ErrUnsupportedFormat", err)
		}
	}
	if n, _ := srv.counts(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	srv.set(func(s *audioServer) { s.body = nil })
	if _, err := f.Prompt(context.Background(), url, ""); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty body: %v, want ErrEmpty", err)
	}
	long := wavSpec{tag: wavePCM, bits: 8, channels: 1, rate: 8000}
	srv.set(func(s *audioServer) { s.body = long.makeWAV(3*8000, toneGen(500, 8000, 0.5, 1)) })
	f = newTestFetcher(t, newFakeClock(), FetcherOptions{MaxDuration: 2 * time.Second})
	if _, err := f.Prompt(context.Background(), url, ""); !errors.Is(err, ErrTooLong) {
		t.Fatalf("3 s file with a 2 s limit: %v, want ErrTooLong", err)
	}
}

func TestFetcherLRU(t *testing.T) {
	srv := &audioServer{body: toneWAV(1000, 125*time.Millisecond)} // 1000 samples = 2000 bytes
	base := serve(t, srv)
	f := newTestFetcher(t, newFakeClock(), FetcherOptions{MaxCacheBytes: 5000})
	get := func(name string) {
		t.Helper()
		if _, err := f.Prompt(context.Background(), base+"/"+name, ""); err != nil {
			t.Fatal(err)
		}
	}
	get("a")
	get("b")
	get("a") // hit; b is now least recently used
	get("c") // evicts b
	get("a") // hit
	get("c") // hit
	get("b") // miss, evicts a
	if got := strings.Join(srv.paths, ","); got != "/a,/b,/c,/b" {
		t.Errorf("requests %s, want /a,/b,/c,/b", got)
	}
	f.mu.Lock()
	bytes := f.cache.bytes
	f.mu.Unlock()
	if bytes != 4000 {
		t.Errorf("cache holds %d bytes, want 4000", bytes)
	}

	// A prompt bigger than the whole cache is served but not kept.
	f = newTestFetcher(t, newFakeClock(), FetcherOptions{MaxCacheBytes: 1000})
	get("a")
	get("a")
	if n, _ := srv.counts(); n != 6 {
		t.Errorf("%d requests, want 6", n)
	}
	// Caching disabled.
	f = newTestFetcher(t, newFakeClock(), FetcherOptions{MaxCacheBytes: -1})
	get("a")
	get("a")
	if n, _ := srv.counts(); n != 8 {
		t.Errorf("%d requests, want 8", n)
	}
}

func TestFetcherStaleOnError(t *testing.T) {
	srv := &audioServer{body: toneWAV(1000, 100*time.Millisecond), etag: `"v1"`}
	url := serve(t, srv) + "/a.wav"
	clock := newFakeClock()
	f := newTestFetcher(t, clock, FetcherOptions{})
	p1, _ := f.Prompt(context.Background(), url, "")

	// A transient failure while revalidating serves the cached prompt.
	srv.set(func(s *audioServer) { s.status, s.etag = 503, "" })
	clock.Advance(DefaultMaxAge + time.Second)
	if p, err := f.Prompt(context.Background(), url, ""); err != nil || p != p1 {
		t.Fatalf("503: %v, same prompt %v", err, p == p1)
	}
	// ... and trusts it for another MaxAge.
	f.Prompt(context.Background(), url, "")
	if n, _ := srv.counts(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	// A 404 drops it.
	srv.set(func(s *audioServer) { s.status = 404 })
	clock.Advance(DefaultMaxAge + time.Second)
	if _, err := f.Prompt(context.Background(), url, ""); !errors.Is(err, ErrDownload) {
		t.Fatalf("404: %v", err)
	}
	srv.set(func(s *audioServer) { s.status = 503 })
	if _, err := f.Prompt(context.Background(), url, ""); !errors.Is(err, ErrDownload) {
		t.Fatalf("503 after the entry was dropped: %v", err)
	}
}

func TestParseCacheControl(t *testing.T) {
	cases := []struct {
		in   []string
		want cachePolicy
	}{
		{nil, cachePolicy{}},
		{[]string{"max-age=60"}, cachePolicy{maxAge: time.Minute, hasAge: true}},
		{[]string{`Max-Age="30", No-Cache`}, cachePolicy{maxAge: 30 * time.Second, hasAge: true, noCache: true}},
		{[]string{"private", "no-store"}, cachePolicy{noStore: true}},
		{[]string{"max-age=-1"}, cachePolicy{}},
		{[]string{"max-age=abc"}, cachePolicy{}},
		{[]string{"max-age=10, max-age=20"}, cachePolicy{maxAge: 10 * time.Second, hasAge: true}},
	}
	for _, tc := range cases {
		h := http.Header{}
		for _, v := range tc.in {
			h.Add("Cache-Control", v)
		}
		if got := parseCacheControl(h); got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
