package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat
// (100 on every Linux platform Go supports).
const clockTicks = 100

// sampleInterval is how often the server is sampled.
const sampleInterval = 500 * time.Millisecond

// procSample is one observation of the server process.
type procSample struct {
	At         time.Time
	CPUTicks   uint64 // utime + stime
	RSSKB      int64
	StatusOK   bool // the admin status answered
	Active     int  // active calls
	Goroutines int
	Pending    int // undelivered events
}

// sampler records the server's CPU time and RSS (/proc) and its admin
// status every sampleInterval until its context ends.
type sampler struct {
	pid int
	api *apiClient

	mu      sync.Mutex
	samples []procSample
}

func newSampler(pid int, api *apiClient) *sampler { return &sampler{pid: pid, api: api} }

// run samples until ctx ends.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(sampleInterval)
	defer t.Stop()
	for {
		s.sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *sampler) sample(ctx context.Context) {
	ps := procSample{At: time.Now()}
	ticks, rss, err := readProc(s.pid)
	if err != nil {
		return // the process is gone
	}
	ps.CPUTicks, ps.RSSKB = ticks, rss
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	st, err := s.api.status(sctx)
	cancel()
	if err == nil {
		ps.StatusOK, ps.Active, ps.Goroutines, ps.Pending = true, st.ActiveCalls, st.Goroutines, st.PendingEvents
	}
	s.mu.Lock()
	s.samples = append(s.samples, ps)
	s.mu.Unlock()
}

// between returns the samples taken in [from, to].
func (s *sampler) between(from, to time.Time) []procSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []procSample
	for _, x := range s.samples {
		if !x.At.Before(from) && !x.At.After(to) {
			out = append(out, x)
		}
	}
	return out
}

// readProc returns the CPU time (utime+stime, in clock ticks) and resident
// set size (kB) of pid.
func readProc(pid int) (ticks uint64, rssKB int64, err error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	if ticks, err = parseProcStat(stat); err != nil {
		return 0, 0, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	rssKB, err = parseVmRSS(status)
	return ticks, rssKB, err
}

// selfCPU is the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// parseProcStat returns utime+stime from /proc/<pid>/stat. The command
// name (field 2) may hold spaces and parentheses, so fields are counted
// from the last ')'.
func parseProcStat(b []byte) (uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no command name")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("proc stat: too few fields")
	}
	u, err := strconv.ParseUint(string(f[11]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat: utime: %w", err)
	}
	st, err := strconv.ParseUint(string(f[12]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat: stime: %w", err)
	}
	return u + st, nil
}

// parseVmRSS returns VmRSS in kB from /proc/<pid>/status.
func parseVmRSS(b []byte) (int64, error) {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(string(f[0]), 10, 64)
		}
	}
	return 0, errors.New("proc status: no VmRSS")
}

// procSummary is the server's resource use over a window of samples.
type procSummary struct {
	Samples    int
	CPUPercent float64 // of one core
	RSSKB      float64 // mean
	Goroutines float64 // mean
	Active     float64 // mean active calls
	MaxActive  int
}

// summarizeProc averages samples; CPU is the tick difference between the
// first and last sample over the time between them.
func summarizeProc(ss []procSample) procSummary {
	var out procSummary
	if len(ss) == 0 {
		return out
	}
	var n int
	for _, x := range ss {
		out.RSSKB += float64(x.RSSKB)
		if x.StatusOK {
			out.Goroutines += float64(x.Goroutines)
			out.Active += float64(x.Active)
			out.MaxActive = max(out.MaxActive, x.Active)
			n++
		}
	}
	out.Samples = len(ss)
	out.RSSKB /= float64(len(ss))
	if n > 0 {
		out.Goroutines /= float64(n)
		out.Active /= float64(n)
	}
	first, last := ss[0], ss[len(ss)-1]
	if dt := last.At.Sub(first.At).Seconds(); dt > 0 && last.CPUTicks >= first.CPUTicks {
		out.CPUPercent = float64(last.CPUTicks-first.CPUTicks) / clockTicks / dt * 100
	}
	return out
}

// steadyWindow returns the longest run of consecutive samples whose active
// calls are at least frac of the largest count seen (the plateau of a run).
func steadyWindow(ss []procSample, frac float64) []procSample {
	peak := 0
	for _, x := range ss {
		if x.StatusOK {
			peak = max(peak, x.Active)
		}
	}
	if peak == 0 {
		return nil
	}
	floor := int(frac * float64(peak))
	var best []procSample
	start := -1
	for i := 0; i <= len(ss); i++ {
		in := i < len(ss) && ss[i].StatusOK && ss[i].Active >= floor && ss[i].Active > 0
		if in && start < 0 {
			start = i
		}
		if !in && start >= 0 {
			if i-start > len(best) {
				best = ss[start:i]
			}
			start = -1
		}
	}
	return best
}
