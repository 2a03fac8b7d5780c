package stt

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"
)

// PoolOptions bound a Pool. Zero values mean the defaults.
type PoolOptions struct {
	// MaxSessions is how many sessions may be open at once. Default 4.
	MaxSessions int
	// MaxWaiting is how many Start calls may wait for a free session;
	// beyond it Start fails at once with ErrBusy. Default MaxSessions;
	// negative: no waiting at all.
	MaxWaiting int
	// MaxWait bounds how long Start waits for a free session before
	// failing with ErrBusy. Default 2 s.
	MaxWait time.Duration
}

// Default pool limits.
const (
	DefaultPoolSessions = 4
	DefaultPoolMaxWait  = 2 * time.Second
)

// PoolStats is a snapshot of a Pool.
type PoolStats struct {
	Active   int    // sessions open
	Waiting  int    // Start calls waiting for one to close
	Started  uint64 // sessions started since the pool was made
	Rejected uint64 // Start calls refused with ErrBusy
}

// Pool is an Engine that limits the sessions of another: at most
// MaxSessions open at once, at most MaxWaiting Start calls queued (first
// come, first served) for at most MaxWait, the rest refused at once with
// ErrBusy. A session's slot is freed by its Close.
type Pool struct {
	eng  Engine
	opts PoolOptions

	mu       sync.Mutex
	active   int
	waiters  list.List // of chan struct{}, closed when handed a slot
	started  uint64
	rejected uint64
}

// NewPool limits e.
func NewPool(e Engine, opts PoolOptions) *Pool {
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultPoolSessions
	}
	if opts.MaxWaiting == 0 {
		opts.MaxWaiting = opts.MaxSessions
	}
	if opts.MaxWaiting < 0 {
		opts.MaxWaiting = 0
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultPoolMaxWait
	}
	return &Pool{eng: e, opts: opts}
}

// Name is the pooled engine's name.
func (p *Pool) Name() string { return p.eng.Name() }

// Supports asks the pooled engine.
func (p *Pool) Supports(language string) error { return p.eng.Supports(language) }

// Stats returns a snapshot of the pool.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{Active: p.active, Waiting: p.waiters.Len(), Started: p.started, Rejected: p.rejected}
}

// Start takes a slot (waiting for one if the queue has room) and starts a
// session of the pooled engine in it.
func (p *Pool) Start(ctx context.Context, opts Options) (Session, error) {
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	s, err := p.eng.Start(ctx, opts)
	if err != nil {
		p.release()
		return nil, err
	}
	p.mu.Lock()
	p.started++
	p.mu.Unlock()
	return &pooled{Session: s, pool: p}, nil
}

func (p *Pool) acquire(ctx context.Context) error {
	p.mu.Lock()
	if p.active < p.opts.MaxSessions && p.waiters.Len() == 0 {
		p.active++
		p.mu.Unlock()
		return nil
	}
	if p.waiters.Len() >= p.opts.MaxWaiting {
		p.rejected++
		active, waiting := p.active, p.waiters.Len()
		p.mu.Unlock()
		return fmt.Errorf("%w: %s: %d sessions open and %d waiting", ErrBusy, p.eng.Name(), active, waiting)
	}
	ready := make(chan struct{})
	elem := p.waiters.PushBack(ready)
	p.mu.Unlock()

	timer := time.NewTimer(p.opts.MaxWait)
	defer timer.Stop()
	var err error
	select {
	case <-ready:
		return nil
	case <-timer.C:
		err = fmt.Errorf("%w: %s: no session free within %v", ErrBusy, p.eng.Name(), p.opts.MaxWait)
	case <-ctx.Done():
		err = fmt.Errorf("stt: waiting for a free %s session: %w", p.eng.Name(), ctx.Err())
	}
	p.mu.Lock()
	select {
	case <-ready: // handed a slot just as we gave up: pass it on
		p.mu.Unlock()
		p.release()
	default:
		p.waiters.Remove(elem)
		if err != nil && ctx.Err() == nil {
			p.rejected++
		}
		p.mu.Unlock()
	}
	return err
}

// release frees a slot, handing it to the first waiter if there is one.
func (p *Pool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if front := p.waiters.Front(); front != nil {
		p.waiters.Remove(front)
		close(front.Value.(chan struct{}))
		return
	}
	p.active--
}

// pooled is a session that frees its slot when closed.
type pooled struct {
	Session
	pool *Pool
	once sync.Once
}

func (s *pooled) Close() {
	s.Session.Close()
	s.once.Do(s.pool.release)
}
