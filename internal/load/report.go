package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Report is the outcome of a harness session.
type Report struct {
	Started time.Time `json:"started"`
	Machine Machine   `json:"machine"`
	Timing  string    `json:"timing"` // capture or sipp
	// Knee is the ramp's knee in calls/s (0 when the ramp did not find one).
	Knee    int      `json:"knee"`
	Results []Result `json:"results"`
	Notes   []string `json:"notes"`
}

// Machine describes where the figures were taken.
type Machine struct {
	CPU      string `json:"cpu"`
	CPUs     int    `json:"cpus"`
	MemoryMB int64  `json:"memoryMb"`
	Kernel   string `json:"kernel"`
	Go       string `json:"go"`
	SIPp     string `json:"sipp"`
}

func newReport(h *Harness) *Report {
	r := &Report{Started: time.Now(), Machine: machineInfo(h.opts.SIPpBin), Timing: TimingCapture}
	if h.capture == nil {
		r.Timing = TimingSIPp
		r.note("timings from SIPp (no packet capture: %v): INVITE→200 is SIPp's rtd (1 ms resolution at best), failures are SIPp's counters, no overrun or RTP figures", h.captureErr)
	} else {
		r.note("KB RSS/call only for the first run on a fresh server (ladder rungs, the latency and overload runs, the first ramp step): later runs start with a heap grown by earlier ones")
		r.note("timings from a packet capture on lo (kernel timestamps); RTP figures from a sample of about %d concurrent calls per run", h.opts.RTPStreams)
	}
	return r
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// machineInfo reads the CPU model, memory and kernel from /proc.
func machineInfo(sipp string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				f := strings.Fields(v)
				if len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.MemoryMB = kb / 1024
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command(sipp, "-v").CombinedOutput(); err == nil || len(out) > 0 {
		for line := range strings.SplitSeq(string(out), "\n") {
			if strings.Contains(line, "SIPp v") {
				m.SIPp = strings.TrimSpace(line)
				break
			}
		}
	}
	return m
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// tableColumns are the summary table's headings.
var tableColumns = []string{
	"run", "prompt s", "calls", "att/s", "done/s", "fail 503/tmo/noBYE/other",
	"INV→200 ms p50/p99/max", "overrun ms p50/p99", "conc", "CPU %", "CPU %/call",
	"KB RSS/call", "gor.", "gor./call", "RTP gap ms p99/max", "jitter ms mean/max",
	"webhook ms p50/p99", "answer ms p50/p99", "idle after", "SIPp/app CPU %",
}

// WriteTable writes the summary as a markdown table, then the notes.
func (r *Report) WriteTable(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %d MB; kernel %s; %s; %s\n\n", r.Machine.CPU, r.Machine.CPUs, r.Machine.MemoryMB,
		r.Machine.Kernel, r.Machine.Go, r.Machine.SIPp)
	fmt.Fprintf(&b, "| %s |\n", strings.Join(tableColumns, " | "))
	seps := make([]string, len(tableColumns))
	for i := range seps {
		seps[i] = "---"
		if i > 0 {
			seps[i] = "---:"
		}
	}
	fmt.Fprintf(&b, "|%s|\n", strings.Join(seps, "|"))
	for _, res := range r.Results {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(tableRow(res), " | "))
	}
	b.WriteString("\n")
	notes := slices.Clone(r.Notes)
	for _, res := range r.Results {
		if res.Note != "" {
			notes = append(notes, res.Name+": "+res.Note)
		}
		if res.CaptureDrops > 0 {
			notes = append(notes, fmt.Sprintf("%s: the capture dropped %d packets", res.Name, res.CaptureDrops))
		}
		if res.Kind != KindLadder && res.Kind != KindLatency && res.Limit > 0 && float64(res.PeakActive) >= 0.97*float64(res.Limit) {
			notes = append(notes, fmt.Sprintf("%s: %d active calls reached SIPp's limit (-l %d), which held the rate back", res.Name, res.PeakActive, res.Limit))
		}
		if res.SIPp.Signal != "" {
			notes = append(notes, fmt.Sprintf("%s: SIPp crashed (%s) after %d calls", res.Name, res.SIPp.Signal, res.SIPp.Created))
		}
		if res.SIPp.Killed {
			notes = append(notes, res.Name+": SIPp overran its bound and was killed")
		}
		for _, k := range slices.Sorted(maps.Keys(res.ServerLog)) {
			notes = append(notes, fmt.Sprintf("%s: server log %dx %q", res.Name, res.ServerLog[k], k))
		}
		if len(res.App.errorsOrNil()) > 0 {
			notes = append(notes, fmt.Sprintf("%s: app request failures %v", res.Name, res.App.Errors))
		}
		if res.App != nil && res.App.PlayFailed > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d PlayFailed events", res.Name, res.App.PlayFailed))
		}
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func (s *AppStats) errorsOrNil() map[string]int {
	if s == nil {
		return nil
	}
	return s.Errors
}

// tableRow formats one result.
func tableRow(r Result) []string {
	f := r.Failures
	fail := fmt.Sprintf("%d/%d/%d/%d", f.Status503, f.Timeout, f.NoBye, f.Other)
	if r.Timing == TimingSIPp {
		fail = fmt.Sprintf("–/%d/–/%d", f.Timeout, f.Other)
	}
	idle := "–"
	switch {
	case r.SettleMS >= 0:
		idle = fmt.Sprintf("%.1f s", r.SettleMS/1000)
	case r.LeftActive >= 0:
		idle = fmt.Sprintf("%d left", r.LeftActive)
	}
	steady := func(v float64, prec int) string {
		if r.SteadySeconds <= 0 {
			return "–"
		}
		return num(v, prec)
	}
	rss := steady(r.RSSPerCallKB, 1)
	if !r.FreshServer {
		rss = "–"
	}
	return []string{
		r.Name,
		num(float64(r.PromptMS)/1000, 0),
		strconv.Itoa(r.Attempted),
		num(r.AttemptedPerSec, 1),
		num(r.CompletedPerSec, 1),
		fail,
		dist3(r.InviteTo200),
		dist2(r.Overrun),
		steady(r.Concurrency, 0),
		steady(r.CPUPercent, 0),
		steady(r.CPUPerCall, 3),
		rss,
		steady(r.Goroutines, 0),
		steady(r.GoroutinesPerCall, 2),
		pair(r.RTP.GapP99MS, r.RTP.GapMaxMS, r.RTP.Streams > 0),
		pair(r.RTP.JitterMeanMS, r.RTP.JitterMaxMS, r.RTP.Streams > 0),
		dist2(r.Webhook),
		dist2(r.AnswerRTT),
		idle,
		fmt.Sprintf("%s/%s", num(r.SIPp.CPUPercent, 0), num(r.HarnessCPUPercent, 0)),
	}
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func dist3(d Dist) string {
	if d.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%s/%s/%s", num(d.P50, 1), num(d.P99, 1), num(d.Max, 1))
}

func dist2(d Dist) string {
	if d.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%s/%s", num(d.P50, 1), num(d.P99, 1))
}

func pair(a, b float64, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%s/%s", num(a, 1), num(b, 1))
}
