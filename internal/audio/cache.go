package audio

import (
	"container/list"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cacheEntry is one decoded prompt with what is needed to revalidate it.
type cacheEntry struct {
	key       string
	url       string // the URL it was downloaded from
	prompt    *Prompt
	etag      string
	lastMod   string
	validated time.Time     // last 200 or 304
	maxAge    time.Duration // freshness lifetime after validated
	noCache   bool          // revalidate on every use
}

func (e *cacheEntry) fresh(now time.Time) bool {
	return !e.noCache && now.Sub(e.validated) < e.maxAge
}

// lru is a byte-bounded least-recently-used map of cache entries. It is not
// safe for concurrent use; Fetcher guards it with its mutex.
type lru struct {
	max   int64
	bytes int64
	order *list.List // of *cacheEntry, most recently used first
	items map[string]*list.Element
}

func newLRU(max int64) *lru {
	return &lru{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the entry for key, marking it used.
func (c *lru) get(key string) *cacheEntry {
	el := c.items[key]
	if el == nil {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

// put stores e, replacing any entry with the same key and evicting the
// least recently used entries beyond the byte budget. An entry larger than
// the whole budget is not stored (and the old one is dropped).
func (c *lru) put(e *cacheEntry) {
	c.remove(e.key)
	size := e.prompt.sizeBytes()
	if size > c.max {
		return
	}
	c.items[e.key] = c.order.PushFront(e)
	c.bytes += size
	for c.bytes > c.max {
		c.remove(c.order.Back().Value.(*cacheEntry).key)
	}
}

func (c *lru) remove(key string) {
	if el := c.items[key]; el != nil {
		c.order.Remove(el)
		delete(c.items, key)
		c.bytes -= el.Value.(*cacheEntry).prompt.sizeBytes()
	}
}

// cachePolicy is what a response's Cache-Control allows.
type cachePolicy struct {
	noStore bool
	noCache bool
	maxAge  time.Duration
	hasAge  bool
}

// parseCacheControl reads the directives this cache honours: no-store,
// no-cache and max-age. Unknown directives are ignored.
func parseCacheControl(h http.Header) cachePolicy {
	var p cachePolicy
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store":
				p.noStore = true
			case "no-cache":
				p.noCache = true
			case "max-age":
				secs, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
				if err == nil && secs >= 0 && !p.hasAge {
					p.maxAge = time.Duration(min(secs, int64(100*365*24*3600))) * time.Second
					p.hasAge = true
				}
			}
		}
	}
	return p
}
