package media

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// maxClockLag is how far the clock may fall behind (e.g. a stalled
// process) before it stops catching up tick by tick and skips frames.
const maxClockLag = 5 * FrameDuration

// Engine owns the RTP port pool and the single pacing clock that drives
// every mixer. Create legs and mixers with it, then call Run.
type Engine struct {
	s     settings
	log   *slog.Logger
	pool  *portPool
	bind  bindFunc
	epoch time.Time
	wg    sync.WaitGroup // the notifier goroutine
	notes *notifier

	running atomic.Bool
	ticks   atomic.Uint64 // clock periods run

	mu     sync.Mutex
	closed bool
	mixers map[*Mixer]struct{}
	legs   map[*Leg]struct{}

	// Clock scratch, reused every tick.
	mixScratch []*Mixer
	legScratch []*Leg
	skip       uint32
	shards     *shards
	rx         []*rxBatch          // receive buffers, one per worker
	drainFn    func(w, lo, hi int) // e.drainRange, bound once
	mixFn      func(w, lo, hi int) // e.mixRange, bound once
}

// NewEngine validates cfg and returns an engine. log may be nil.
func NewEngine(cfg Config, log *slog.Logger) (*Engine, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		s:      s,
		log:    log,
		pool:   newPortPool(s.portMin, s.portMax),
		bind:   udpBinder(s.bind),
		epoch:  time.Now(),
		notes:  newNotifier(),
		mixers: make(map[*Mixer]struct{}),
		legs:   make(map[*Leg]struct{}),
	}
	e.drainFn, e.mixFn = e.drainRange, e.mixRange
	e.setWorkers(&shards{}) // the clock goroutine alone until Run starts helpers
	return e, nil
}

// setWorkers makes s share the clock's work, with receive buffers for each
// of its workers.
func (e *Engine) setWorkers(s *shards) {
	e.shards = s
	for len(e.rx) < s.workers() {
		e.rx = append(e.rx, newRxBatch())
	}
}

// now returns monotonic nanoseconds since the engine was created.
func (e *Engine) now() int64 { return int64(time.Since(e.epoch)) }

// Run drives the shared 20 ms clock until ctx is done. On each tick every
// started leg's socket is drained, every mixer mixes and sends one frame
// per leg, and legs are checked for inactivity. The first two phases are
// spread over Config.Workers goroutines. When Run returns, all mixers and legs are closed and the
// engine cannot be used again. Run returns nil after ctx is done, or
// ErrRunning if it was called before.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer e.shutdown()
	e.setWorkers(startShards(e.s.workers))
	defer e.shards.stop()
	stop := make(chan struct{})
	defer close(stop)
	e.wg.Add(1)
	go e.runNotifier(stop)
	e.log.Info("media engine running", "bind", e.s.bind, "advertise", e.s.advertise,
		"port_min", e.s.portMin, "port_max", e.s.portMax, "workers", e.s.workers)

	timer := time.NewTimer(FrameDuration)
	defer timer.Stop()
	next := time.Now().Add(FrameDuration)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		now := time.Now()
		var skip uint32
		if late := now.Sub(next); late >= maxClockLag {
			n := late / FrameDuration
			skip = uint32(n)
			next = next.Add(n * FrameDuration)
			e.log.Warn("media clock fell behind; skipping frames", "frames", skip)
		}
		e.tick(now, skip)
		e.ticks.Add(1)
		// Deadlines are absolute, so a late tick is followed by an early
		// one and the average rate stays exactly one frame per 20 ms.
		next = next.Add(FrameDuration)
		timer.Reset(time.Until(next))
	}
}

// tick runs one clock period: drain every started leg's socket, then run
// every mixer, then check inactivity. It must not allocate in steady state.
func (e *Engine) tick(now time.Time, skip uint32) {
	e.mu.Lock()
	for m := range e.mixers {
		e.mixScratch = append(e.mixScratch, m)
	}
	for l := range e.legs {
		e.legScratch = append(e.legScratch, l)
	}
	e.mu.Unlock()

	e.skip = skip
	e.shards.run(len(e.legScratch), e.drainFn)
	e.shards.run(len(e.mixScratch), e.mixFn)
	if e.s.inactivity > 0 {
		nowNs := int64(now.Sub(e.epoch))
		for _, l := range e.legScratch {
			l.checkInactive(nowNs, e.s.inactivity)
		}
	}
	clear(e.mixScratch)
	clear(e.legScratch)
	e.mixScratch, e.legScratch = e.mixScratch[:0], e.legScratch[:0]
}

func (e *Engine) drainRange(w, lo, hi int) {
	rb := e.rx[w]
	for _, l := range e.legScratch[lo:hi] {
		l.drain(rb)
	}
}

func (e *Engine) mixRange(_, lo, hi int) {
	for _, m := range e.mixScratch[lo:hi] {
		m.tick(e.skip)
	}
}

// checkInactive fires the inactivity handler once when a started leg whose
// peer is supposed to send has not received RTP for timeout.
func (l *Leg) checkInactive(now int64, timeout time.Duration) {
	if !l.started.Load() || l.closed.Load() || l.inactiveFired.Load() {
		return
	}
	neg := l.neg.Load()
	if neg == nil || !neg.remoteDir.Sends() {
		return // nothing negotiated, or the peer holds: no media expected
	}
	if time.Duration(now-l.lastRx.Load()) < timeout {
		return
	}
	if l.inactiveFired.CompareAndSwap(false, true) {
		l.log.Info("rtp inactivity timeout", "timeout", timeout)
		// Off the clock: the handler may block or close the leg.
		go l.h.Inactive()
	}
}

// shutdown closes everything when Run returns.
func (e *Engine) shutdown() {
	e.mu.Lock()
	e.closed = true
	mixers := make([]*Mixer, 0, len(e.mixers))
	for m := range e.mixers {
		mixers = append(mixers, m)
	}
	legs := make([]*Leg, 0, len(e.legs))
	for l := range e.legs {
		legs = append(legs, l)
	}
	e.mu.Unlock()
	for _, m := range mixers {
		m.Close()
	}
	for _, l := range legs {
		l.Close()
	}
	e.wg.Wait()
	e.log.Info("media engine stopped")
}

// Counts reports how many legs and mixers are open, for status pages and
// leak checks.
func (e *Engine) Counts() (legs, mixers int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.legs), len(e.mixers)
}
