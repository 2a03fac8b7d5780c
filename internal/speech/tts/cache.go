package tts

import (
	"container/list"
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
)

// cacheKeyer is implemented by the synthesizers of this package: the key
// names what the engine would actually be asked (the mapped voice, not the
// ACS voice name), so requests that sound the same share an entry. ok is
// false for a request the engine will reject; it is not cached.
type cacheKeyer interface {
	cacheKey(r Request) (key string, ok bool)
}

// cache is an LRU of synthesized WAVs, bounded by bytes, that merges
// concurrent identical requests into one synthesis.
type cache struct {
	inner    Synthesizer
	keyer    cacheKeyer // nil: the default key
	maxBytes int64

	mu       sync.Mutex
	lru      *list.List // of *cacheEntry, most recent first
	items    map[[32]byte]*list.Element
	size     int64
	inflight map[[32]byte]*flight
}

type cacheEntry struct {
	key [32]byte
	wav []byte
}

// flight is one synthesis shared by the callers waiting for it.
type flight struct {
	done    chan struct{}
	wav     []byte
	err     error
	waiters int
	cancel  context.CancelFunc
}

// NewCache wraps s with an in-memory cache of its WAVs keyed by content (a
// hash of the text or SSML and the voice they map to), least recently used
// first out once they exceed maxBytes. Concurrent identical requests share
// one synthesis, which is cancelled only when every caller waiting for it
// has given up. Errors are not cached. Callers get their own copy of the
// WAV. maxBytes <= 0 returns s unchanged.
func NewCache(s Synthesizer, maxBytes int64) Synthesizer {
	if maxBytes <= 0 {
		return s
	}
	c := &cache{
		inner:    s,
		maxBytes: maxBytes,
		lru:      list.New(),
		items:    map[[32]byte]*list.Element{},
		inflight: map[[32]byte]*flight{},
	}
	c.keyer, _ = s.(cacheKeyer)
	return c
}

func (c *cache) key(r Request) ([32]byte, bool) {
	var k string
	if c.keyer != nil {
		var ok bool
		if k, ok = c.keyer.cacheKey(r); !ok {
			return [32]byte{}, false
		}
	} else {
		if _, err := r.isSSML(); err != nil {
			return [32]byte{}, false
		}
		norm := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
		k = fmt.Sprintf("%q %q %q %q %q", strings.TrimSpace(r.Text), strings.TrimSpace(r.SSML),
			norm(r.VoiceName), norm(r.Locale), norm(r.VoiceKind))
	}
	return sha256.Sum256([]byte(k)), true
}

func (c *cache) Synthesize(ctx context.Context, r Request) ([]byte, error) {
	k, ok := c.key(r)
	if !ok {
		return c.inner.Synthesize(ctx, r)
	}
	c.mu.Lock()
	if el, hit := c.items[k]; hit {
		c.lru.MoveToFront(el)
		wav := el.Value.(*cacheEntry).wav
		c.mu.Unlock()
		return clone(wav), nil
	}
	f := c.inflight[k]
	if f == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.inflight[k] = f
		go c.run(fctx, k, f, r)
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		return clone(f.wav), nil
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			if c.inflight[k] == f {
				delete(c.inflight, k) // later callers start afresh
			}
		}
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// run does one shared synthesis and stores its result.
func (c *cache) run(ctx context.Context, k [32]byte, f *flight, r Request) {
	wav, err := c.inner.Synthesize(ctx, r)
	f.cancel()
	c.mu.Lock()
	f.wav, f.err = wav, err
	if c.inflight[k] == f {
		delete(c.inflight, k)
	}
	if err == nil {
		c.store(k, wav)
	}
	c.mu.Unlock()
	close(f.done)
}

// store adds a WAV and evicts the least recently used ones over the bound.
// c.mu is held.
func (c *cache) store(k [32]byte, wav []byte) {
	n := int64(len(wav))
	if n > c.maxBytes {
		return
	}
	if el, ok := c.items[k]; ok { // stored by an earlier, abandoned flight
		c.lru.MoveToFront(el)
		return
	}
	c.items[k] = c.lru.PushFront(&cacheEntry{key: k, wav: wav})
	c.size += n
	for c.size > c.maxBytes {
		el := c.lru.Back()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.items, e.key)
		c.size -= int64(len(e.wav))
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
