package media

import "sync"

// shardMin is the least work (legs or mixers) worth handing to another
// goroutine: below it, a tick's phase runs on the clock goroutine alone.
const shardMin = 64

// shards spreads each phase of a tick over a fixed set of goroutines, so
// that a busy server uses every core for media and a tick ends sooner.
// The clock goroutine takes the first share itself and waits for the
// others, so a phase is over for every leg before the next begins.
type shards struct {
	helpers []chan shardJob
	wg      sync.WaitGroup
}

// shardJob is worker w's share [lo, hi) of a phase.
type shardJob struct {
	fn        func(w, lo, hi int)
	w, lo, hi int
}

// startShards starts n-1 helper goroutines (n ≥ 1 workers in all,
// counting the caller of run). stop ends them.
func startShards(n int) *shards {
	s := &shards{helpers: make([]chan shardJob, max(n, 1)-1)}
	for i := range s.helpers {
		ch := make(chan shardJob)
		s.helpers[i] = ch
		go func() {
			for j := range ch {
				j.fn(j.w, j.lo, j.hi)
				s.wg.Done()
			}
		}()
	}
	return s
}

// workers is how many goroutines run may use, the caller included.
func (s *shards) workers() int { return len(s.helpers) + 1 }

// run calls fn over [0, count) in contiguous shares, in parallel when
// there is enough work, and returns when every share is done. Each call of
// fn gets its own worker number w < workers(), for scratch space. fn must
// be a value bound once (a method value stored in a field), so that run
// does not allocate.
func (s *shards) run(count int, fn func(w, lo, hi int)) {
	workers := min(s.workers(), count/shardMin)
	if workers <= 1 {
		fn(0, 0, count)
		return
	}
	per := (count + workers - 1) / workers
	s.wg.Add(workers - 1)
	for i := 1; i < workers; i++ {
		s.helpers[i-1] <- shardJob{fn: fn, w: i, lo: min(i*per, count), hi: min((i+1)*per, count)}
	}
	fn(0, 0, per)
	s.wg.Wait()
}

// stop ends the helper goroutines. run must not be called after it.
func (s *shards) stop() {
	for _, ch := range s.helpers {
		close(ch)
	}
}
