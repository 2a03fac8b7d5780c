package server

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// idleCheck is how often the server looks whether its calls have ended.
const idleCheck = 10 * time.Second

// releaseWhenIdle returns the memory a burst of calls made the heap grow
// by to the operating system, once the last call has ended. The Go runtime
// gives it back by itself too, but only over minutes; an operator watching
// the resident size after a busy hour sees it at once.
func (s *Server) releaseWhenIdle(ctx context.Context) error {
	t := time.NewTicker(idleCheck)
	defer t.Stop()
	busy := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if s.calls.Active() > 0 {
			busy = true
			continue
		}
		if !busy {
			continue
		}
		busy = false
		before := retainedBytes()
		start := time.Now()
		debug.FreeOSMemory()
		s.log.Info("no calls: returned free memory to the operating system",
			"retained_mib_before", before>>20, "retained_mib_after", retainedBytes()>>20, "took", time.Since(start))
	}
}

// retainedBytes is the memory the Go runtime holds from the operating
// system and has not released: about the process's resident size.
func retainedBytes() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64() - sample[1].Value.Uint64()
}
