package audio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Fetcher defaults.
const (
	DefaultMaxFileBytes  = 32 << 20
	DefaultMaxCacheBytes = 256 << 20
	DefaultFetchTimeout  = 15 * time.Second
	DefaultMaxAge        = 5 * time.Minute
)

// FetcherOptions tunes a Fetcher. Zero values take the defaults.
type FetcherOptions struct {
	// MaxFileBytes refuses larger downloads with ErrTooLarge, judged by
	// Content-Length before reading and by counting while reading.
	MaxFileBytes int64
	// MaxCacheBytes bounds the decoded samples kept in the cache (2 bytes a
	// sample); least recently used prompts are evicted first. Negative
	// disables caching (concurrent requests still share a download).
	MaxCacheBytes int64
	// Timeout bounds one download, from the request to the last body byte.
	Timeout time.Duration
	// MaxAge is how long a cached prompt is used without asking the server
	// again, unless the response's Cache-Control gives max-age (which
	// wins) or no-cache (revalidate on every use). Negative revalidates on
	// every use.
	MaxAge time.Duration
	// MaxDuration bounds the decoded length of a file (ErrTooLong).
	// Zero means DefaultMaxDuration.
	MaxDuration time.Duration
	// Now is the clock for cache ages; nil means time.Now.
	Now func() time.Time
}

func (o *FetcherOptions) setDefaults() {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxCacheBytes == 0 {
		o.MaxCacheBytes = DefaultMaxCacheBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultFetchTimeout
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxDuration <= 0 {
		o.MaxDuration = DefaultMaxDuration
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Fetcher downloads audio files over HTTP(S), decodes them and caches the
// decoded prompts.
//
// Prompts are cached by URL, or by cache ID when the caller gives one (ACS's
// playSourceCacheId): every request with the same ID gets the same prompt
// while it is fresh, whatever URL it names. A cached prompt is used without
// a request for MaxAge (or the response's Cache-Control max-age); after
// that it is revalidated with a conditional GET (If-None-Match from the
// ETag, If-Modified-Since from Last-Modified), and a 304 keeps it.
// Responses with Cache-Control no-store are not cached. When revalidation
// fails transiently (network error, timeout, HTTP 408, 429 or 5xx) the
// stale prompt is served and trusted for another MaxAge; 404 and other
// client errors drop it.
//
// Concurrent requests for the same key share one download; the download is
// cancelled only when every caller waiting for it has given up. URLs are
// logged and put in errors without their query string, which may hold
// credentials (SAS tokens). All methods are safe for concurrent use.
type Fetcher struct {
	client *http.Client
	opt    FetcherOptions
	log    *slog.Logger

	mu      sync.Mutex
	cache   *lru // nil when caching is disabled
	flights map[string]*flight
}

// flight is one download shared by every caller asking for its key.
type flight struct {
	done    chan struct{}
	prompt  *Prompt
	err     error
	waiters int
	cancel  context.CancelFunc
}

// NewFetcher returns a Fetcher using client (nil: a plain http.Client;
// its Timeout, if any, also applies) and logging to log (nil: discard).
func NewFetcher(client *http.Client, opt FetcherOptions, log *slog.Logger) *Fetcher {
	if client == nil {
		client = &http.Client{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt.setDefaults()
	f := &Fetcher{client: client, opt: opt, log: log, flights: make(map[string]*flight)}
	if opt.MaxCacheBytes > 0 {
		f.cache = newLRU(opt.MaxCacheBytes)
	}
	return f
}

// Prompt returns the decoded audio at rawURL, from the cache when fresh.
// cacheID, when not empty, is the cache key instead of the URL.
//
// Errors wrap ErrDownload (bad URL or scheme, unreachable host, timeout,
// non-2xx status), ErrTooLarge, or a decoding error (ErrUnsupportedFormat,
// ErrCorrupt, ErrEmpty, ErrTooLong). When ctx ends first, Prompt returns
// ctx.Err(). The returned prompt is shared and must not be modified.
func (f *Fetcher) Prompt(ctx context.Context, rawURL, cacheID string) (*Prompt, error) {
	u, err := parseFetchURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := "url:" + rawURL
	if cacheID != "" {
		key = "id:" + cacheID
	}
	logURL := redactURL(u)

	f.mu.Lock()
	var stale *cacheEntry
	if f.cache != nil {
		if e := f.cache.get(key); e != nil {
			if e.fresh(f.opt.Now()) {
				f.mu.Unlock()
				f.log.Debug("audio: cache hit", "url", logURL, "cache_id", cacheID)
				return e.prompt, nil
			}
			c := *e
			stale = &c
		}
	}
	fl := f.flights[key]
	if fl == nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.opt.Timeout)
		fl = &flight{done: make(chan struct{}), cancel: cancel}
		f.flights[key] = fl
		go f.run(dctx, fl, key, rawURL, logURL, stale)
	}
	fl.waiters++
	f.mu.Unlock()

	select {
	case <-fl.done:
		return fl.prompt, fl.err
	case <-ctx.Done():
		f.mu.Lock()
		fl.waiters--
		if fl.waiters == 0 {
			fl.cancel()
			if f.flights[key] == fl {
				delete(f.flights, key) // a new request starts afresh
			}
		}
		f.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (f *Fetcher) run(ctx context.Context, fl *flight, key, rawURL, logURL string, stale *cacheEntry) {
	defer fl.cancel()
	p, err := f.fetch(ctx, key, rawURL, logURL, stale)
	f.mu.Lock()
	if f.flights[key] == fl {
		delete(f.flights, key)
	}
	fl.prompt, fl.err = p, err
	f.mu.Unlock()
	close(fl.done)
}

// fetch downloads (or revalidates) and decodes one prompt and updates the
// cache.
func (f *Fetcher) fetch(ctx context.Context, key, rawURL, logURL string, stale *cacheEntry) (*Prompt, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w", ErrDownload, logURL, stripURL(err))
	}
	cond := stale != nil && stale.url == rawURL && (stale.etag != "" || stale.lastMod != "")
	if cond {
		if stale.etag != "" {
			req.Header.Set("If-None-Match", stale.etag)
		}
		if stale.lastMod != "" {
			req.Header.Set("If-Modified-Since", stale.lastMod)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return f.failed(ctx, key, logURL, stale, fmt.Errorf("%w: GET %s: %w", ErrDownload, logURL, stripURL(err)), true)
	}
	defer resp.Body.Close()
	policy := parseCacheControl(resp.Header)

	switch code := resp.StatusCode; {
	case code == http.StatusNotModified && cond:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		f.revalidated(key, stale, resp.Header, policy)
		f.log.Debug("audio: not modified", "url", logURL)
		return stale.prompt, nil
	case code >= 200 && code < 300:
	default:
		transient := code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests
		return f.failed(ctx, key, logURL, stale, fmt.Errorf("%w: GET %s: HTTP status %s", ErrDownload, logURL, resp.Status), transient)
	}

	body, err := f.readBody(resp, logURL)
	if err != nil {
		return f.failed(ctx, key, logURL, stale, err, !errors.Is(err, ErrTooLarge))
	}
	p, err := DecodeWith(body, DecodeOptions{MaxDuration: f.opt.MaxDuration})
	if err != nil {
		f.drop(key)
		return nil, fmt.Errorf("%s: %w", logURL, err)
	}
	f.log.Debug("audio: fetched", "url", logURL, "bytes", len(body), "duration", p.Duration())
	if f.cache == nil || policy.noStore {
		f.drop(key)
		return p, nil
	}
	e := &cacheEntry{
		key:       key,
		url:       rawURL,
		prompt:    p,
		etag:      resp.Header.Get("ETag"),
		lastMod:   resp.Header.Get("Last-Modified"),
		validated: f.opt.Now(),
	}
	e.applyPolicy(policy, f.opt.MaxAge)
	f.mu.Lock()
	f.cache.put(e)
	f.mu.Unlock()
	return p, nil
}

func (e *cacheEntry) applyPolicy(p cachePolicy, defaultAge time.Duration) {
	e.maxAge = defaultAge
	if p.hasAge {
		e.maxAge = p.maxAge
	}
	e.noCache = p.noCache
}

// revalidated refreshes the cache entry after a 304.
func (f *Fetcher) revalidated(key string, stale *cacheEntry, h http.Header, policy cachePolicy) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.cache.get(key)
	if e == nil || e.prompt != stale.prompt {
		return // evicted or replaced meanwhile
	}
	if policy.noStore {
		f.cache.remove(key)
		return
	}
	e.validated = f.opt.Now()
	if v := h.Get("ETag"); v != "" {
		e.etag = v
	}
	if v := h.Get("Last-Modified"); v != "" {
		e.lastMod = v
	}
	e.applyPolicy(policy, f.opt.MaxAge)
}

// failed handles a failed download: with a stale prompt and a transient
// failure it serves the stale prompt (trusting it for another MaxAge);
// otherwise it drops any cached prompt and returns err. A download
// abandoned by all its callers leaves the cache alone.
func (f *Fetcher) failed(ctx context.Context, key, logURL string, stale *cacheEntry, err error, transient bool) (*Prompt, error) {
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, err
	}
	if stale != nil && transient {
		f.mu.Lock()
		if e := f.cache.get(key); e != nil && e.prompt == stale.prompt {
			e.validated = f.opt.Now()
		}
		f.mu.Unlock()
		f.log.Warn("audio: revalidation failed, serving cached prompt", "url", logURL, "err", err)
		return stale.prompt, nil
	}
	if stale != nil {
		f.drop(key)
	}
	return nil, err
}

func (f *Fetcher) drop(key string) {
	if f.cache == nil {
		return
	}
	f.mu.Lock()
	f.cache.remove(key)
	f.mu.Unlock()
}

// readBody reads the response body, refusing more than MaxFileBytes.
func (f *Fetcher) readBody(resp *http.Response, logURL string) ([]byte, error) {
	limit := f.opt.MaxFileBytes
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: GET %s: Content-Length %d exceeds %d bytes", ErrTooLarge, logURL, resp.ContentLength, limit)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1)); err != nil {
		return nil, fmt.Errorf("%w: GET %s: reading body: %w", ErrDownload, logURL, stripURL(err))
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w: GET %s: body exceeds %d bytes", ErrTooLarge, logURL, limit)
	}
	return buf.Bytes(), nil
}

// stripURL removes the *url.Error layer that net/http puts around errors:
// its message repeats the full URL, query string included.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseFetchURL accepts absolute http and https URLs only.
func parseFetchURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid URL: %v", ErrDownload, stripURL(err))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("%w: unsupported URL scheme %q (want http or https)", ErrDownload, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: URL has no host", ErrDownload)
	}
	return u, nil
}

// redactURL renders u without user info, query or fragment, which may
// carry credentials.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	s := r.String()
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}
