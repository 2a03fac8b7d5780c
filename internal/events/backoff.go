package events

import (
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff policy: the n-th retry (n ≥ 1) waits
// Initial·2^(n-1), capped at Max, minus a random fraction of up to Jitter
// (0 ≤ Jitter ≤ 1) of that, so receivers that come back are not hit by every
// key at once.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Jitter  float64
}

// DefaultBackoff is the delivery retry policy: 500 ms doubling to 30 s, 20 %
// jitter.
func DefaultBackoff() Backoff {
	return Backoff{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.2}
}

// orDefault returns b, or def when b has no Initial.
func (b Backoff) orDefault(def Backoff) Backoff {
	if b.Initial <= 0 {
		return def
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	b.Jitter = min(max(b.Jitter, 0), 1)
	return b
}

// Delay is the wait before retry number attempt (1 for the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Initial
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		d -= time.Duration(rand.Float64() * b.Jitter * float64(d))
	}
	return d
}
