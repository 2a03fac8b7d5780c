package load

import (
	"os"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses; utime 1234, stime 56.
	stat := []byte("4242 (sw (itch) board) S 1 4242 4242 0 -1 4194560 2875 0 0 0 1234 56 0 0 20 0 12 0 1000 123456 789\n")
	got, err := parseProcStat(stat)
	if err != nil || got != 1290 {
		t.Errorf("parseProcStat = %d, %v; want 1290", got, err)
	}
	if _, err := parseProcStat([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("a short stat line parsed")
	}
}

func TestParseVmRSS(t *testing.T) {
	status := []byte("Name:\tswitchboard\nVmPeak:\t  999 kB\nVmRSS:\t   23456 kB\nThreads:\t9\n")
	if got, err := parseVmRSS(status); err != nil || got != 23456 {
		t.Errorf("parseVmRSS = %d, %v", got, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tx\n")); err == nil {
		t.Error("no VmRSS parsed")
	}
}

func TestReadProcSelf(t *testing.T) {
	ticks, rss, err := readProc(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if rss <= 0 {
		t.Errorf("rss = %d kB", rss)
	}
	_ = ticks
}

func TestSteadyWindowAndSummary(t *testing.T) {
	t0 := time.Unix(1000, 0)
	active := []int{0, 50, 95, 100, 98, 100, 40, 99, 100, 0}
	var ss []procSample
	for i, a := range active {
		ss = append(ss, procSample{At: t0.Add(time.Duration(i) * 500 * time.Millisecond), CPUTicks: uint64(10 * i),
			RSSKB: int64(1000 + a), StatusOK: true, Active: a, Goroutines: 10 + 2*a})
	}
	w := steadyWindow(ss, 0.9)
	if len(w) != 4 || w[0].Active != 95 || w[3].Active != 100 {
		t.Fatalf("steady window = %+v", w)
	}
	s := summarizeProc(w)
	// 30 ticks (0.3 s of CPU) over 1.5 s: 20% of a core.
	if s.Samples != 4 || s.CPUPercent != 20 || s.Active != 98.25 || s.MaxActive != 100 || s.RSSKB != 1098.25 || s.Goroutines != 206.5 {
		t.Errorf("summary = %+v", s)
	}
	if steadyWindow(ss[:1], 0.9) != nil {
		t.Error("an idle series has a steady window")
	}
}
