package load

import (
	"math"
	"slices"
	"time"
)

// Timing sources.
const (
	TimingCapture = "capture" // kernel timestamps of captured packets
	TimingSIPp    = "sipp"    // SIPp's own response times and counters
)

// Result is one run's figures. Per-call figures divide the server's use in
// the steady window (the plateau of active calls) minus its idle use by
// the mean active calls in that window.
type Result struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	PromptMS int64  `json:"promptMs"`
	Rate     int    `json:"rate"`  // target calls/s
	Limit    int    `json:"limit"` // SIPp's concurrent call limit
	Calls    int    `json:"calls"` // calls SIPp was asked to place
	Timing   string `json:"timing"`

	Attempted       int      `json:"attempted"`
	Completed       int      `json:"completed"` // answered and hung up by the server
	AttemptedPerSec float64  `json:"attemptedPerSec"`
	CompletedPerSec float64  `json:"completedPerSec"`
	Failures        Failures `json:"failures"`

	InviteTo200 Dist `json:"inviteTo200Ms"`
	// Overrun is ACK→BYE minus the prompt length: what the call lasted
	// beyond its prompt (play start, PlayCompleted, hang-up, BYE).
	Overrun Dist `json:"overrunMs"`

	Concurrency    float64 `json:"concurrency"` // mean active calls in the steady window
	PeakActive     int     `json:"peakActive"`  // most active calls seen during the run
	SteadySeconds  float64 `json:"steadySeconds"`
	CPUPercent     float64 `json:"cpuPercent"` // of one core, steady window
	IdleCPUPercent float64 `json:"idleCpuPercent"`
	CPUPerCall     float64 `json:"cpuPercentPerCall"`
	// FreshServer: this was the first run on its server, so the idle RSS
	// is a true baseline; RSSPerCallKB is only computed then (later runs
	// start with the heap earlier runs grew).
	FreshServer       bool    `json:"freshServer"`
	RSSKB             float64 `json:"rssKb"`
	IdleRSSKB         float64 `json:"idleRssKb"`
	RSSPerCallKB      float64 `json:"rssKbPerCall"`
	Goroutines        float64 `json:"goroutines"`
	IdleGoroutines    float64 `json:"idleGoroutines"`
	GoroutinesPerCall float64 `json:"goroutinesPerCall"`

	RTP RTPSummary `json:"rtp"`

	Webhook      Dist `json:"webhookMs"`      // every event: arrival − event time
	IncomingCall Dist `json:"incomingCallMs"` // the IncomingCall webhook alone
	AnswerRTT    Dist `json:"answerRttMs"`

	App  *AppStats   `json:"app"`
	SIPp SIPpSummary `json:"sipp"`

	// SettleMS is how long after SIPp ended the server had no active call
	// and no pending event (−1: not within the wait); LeftActive is what
	// was still active when the wait ended.
	SettleMS   float64 `json:"settleMs"`
	LeftActive int     `json:"leftActive"`

	// HarnessCPUPercent is this process's CPU use during the run (the app
	// and the capture), of one core.
	HarnessCPUPercent float64 `json:"harnessCpuPercent"`

	CaptureDrops uint64 `json:"captureDrops"`
	// ServerLog counts the server's log lines during the run by
	// "LEVEL: message" (the server logs at warn).
	ServerLog map[string]int `json:"serverLog,omitempty"`
	Note      string         `json:"note,omitempty"`
}

// Failures counts failed calls by cause.
type Failures struct {
	Total     int `json:"total"`
	Status503 int `json:"status503"` // refused with 503 (calls.maxConcurrent, overload)
	// Timeout: no final response in time (SIPp gave up, CANCEL/487).
	Timeout int `json:"timeout"`
	// NoBye: answered, but the server sent no BYE before SIPp gave up.
	NoBye int `json:"noBye"`
	// Other: any other final error response (by status in ByStatus).
	Other    int         `json:"other"`
	ByStatus map[int]int `json:"byStatus,omitempty"`
}

// RTPSummary describes the prompt audio of the sampled calls.
type RTPSummary struct {
	Streams      int     `json:"streams"` // sampled calls with prompt audio
	Packets      int     `json:"packets"`
	Voiced       int     `json:"voiced"` // packets carrying the prompt
	Lost         int     `json:"lost"`
	GapP99MS     float64 `json:"gapP99Ms"` // inter-arrival of prompt packets
	GapMaxMS     float64 `json:"gapMaxMs"`
	JitterMeanMS float64 `json:"jitterMeanMs"` // RFC 3550 J at the end of each prompt
	JitterMaxMS  float64 `json:"jitterMaxMs"`  // largest J seen during a prompt
}

// SIPpSummary is what SIPp said about the run.
type SIPpSummary struct {
	ExitCode        int            `json:"exitCode"`
	Killed          bool           `json:"killed,omitempty"`
	Created         int            `json:"created"`
	Successful      int            `json:"successful"`
	Failed          int            `json:"failed"`
	FailedBy        map[string]int `json:"failedBy,omitempty"`
	Retransmissions int            `json:"retransmissions"`
	InviteTo200     Dist           `json:"inviteTo200Ms"`
	CPUPercent      float64        `json:"cpuPercent"`       // SIPp's own CPU use, of one core
	Signal          string         `json:"signal,omitempty"` // SIPp crashed
}

// runSpec is one SIPp run.
type runSpec struct {
	Name   string
	Kind   string
	Rate   int
	Limit  int
	Calls  int
	Prompt time.Duration
	Trace  bool // keep SIPp's message trace (small runs)
}

// runData is the raw material of a Result.
type runData struct {
	spec          runSpec
	trace         *traceResult // nil without a capture
	app           *AppStats
	sipp          *sippResult
	idle, steady  procSummary
	steadySeconds float64
	settleMS      float64
	leftActive    int
	serverLog     map[string]int
	harnessCPU    float64
	freshServer   bool
	peakActive    int
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// buildResult computes a Result from what a run produced.
func buildResult(d *runData) Result {
	s := d.spec
	r := Result{
		Name: s.Name, Kind: s.Kind, PromptMS: s.Prompt.Milliseconds(),
		Rate: s.Rate, Limit: s.Limit, Calls: s.Calls,
		App: d.app, SettleMS: d.settleMS, LeftActive: d.leftActive, ServerLog: d.serverLog,
		HarnessCPUPercent: d.harnessCPU, FreshServer: d.freshServer, PeakActive: d.peakActive,
		Failures: Failures{ByStatus: map[int]int{}},
	}
	if sp := d.sipp; sp != nil {
		r.SIPp = SIPpSummary{ExitCode: sp.ExitCode, Killed: sp.Killed, Created: sp.Created, Successful: sp.Successful,
			Failed: sp.Failed, FailedBy: sp.FailedBy, Retransmissions: sp.Retransmissions, InviteTo200: Summarize(sp.ResponseTimesMS),
			CPUPercent: sp.CPUPercent, Signal: sp.Signal}
	}
	nominal := float64(s.Calls) / float64(max(s.Rate, 1)) // seconds to place every call
	if d.trace != nil {
		r.Timing = TimingCapture
		r.CaptureDrops = d.trace.Drops
		fromTrace(&r, d.trace, s.Prompt)
	} else {
		r.Timing = TimingSIPp
		r.Attempted, r.Completed = r.SIPp.Created, r.SIPp.Successful
		r.InviteTo200 = r.SIPp.InviteTo200
		r.Failures.Total = r.SIPp.Failed
		for k, v := range r.SIPp.FailedBy {
			switch k {
			case "TimeoutOnRecv", "MaxUDPRetrans":
				r.Failures.Timeout += v
			default:
				r.Failures.Other += v
			}
		}
		if nominal > 0 {
			r.AttemptedPerSec = float64(r.Attempted) / nominal
			r.CompletedPerSec = float64(r.Completed) / nominal
		}
	}
	if d.app != nil {
		r.Webhook = Summarize(d.app.WebhookMS)
		r.IncomingCall = Summarize(d.app.IncomingMS)
		r.AnswerRTT = Summarize(d.app.AnswerRTTMS)
	}
	r.IdleCPUPercent, r.IdleRSSKB, r.IdleGoroutines = d.idle.CPUPercent, d.idle.RSSKB, d.idle.Goroutines
	if d.steady.Samples < 2 { // no plateau to measure
		return r
	}
	r.CPUPercent, r.RSSKB, r.Goroutines = d.steady.CPUPercent, d.steady.RSSKB, d.steady.Goroutines
	r.Concurrency, r.SteadySeconds = d.steady.Active, d.steadySeconds
	if r.Concurrency > 0 {
		r.CPUPerCall = (r.CPUPercent - r.IdleCPUPercent) / r.Concurrency
		if r.FreshServer {
			r.RSSPerCallKB = (r.RSSKB - r.IdleRSSKB) / r.Concurrency
		}
		r.GoroutinesPerCall = (r.Goroutines - r.IdleGoroutines) / r.Concurrency
	}
	return r
}

// fromTrace fills the call counts, failures, timings and RTP figures from
// the capture.
func fromTrace(r *Result, t *traceResult, prompt time.Duration) {
	var setup, overrun []float64
	first, last := int64(math.MaxInt64), int64(0)
	for _, c := range t.Calls {
		r.Attempted++
		first, last = min(first, c.Invite), max(last, c.Invite)
		if c.OK != 0 {
			setup = append(setup, ms(c.OK-c.Invite))
		}
		if c.Ack != 0 && c.ServerBye != 0 {
			overrun = append(overrun, ms(c.ServerBye-c.Ack)-float64(prompt.Milliseconds()))
		}
		switch {
		case c.OK != 0 && c.ServerBye != 0:
			r.Completed++
			continue
		case c.FinalStatus == 503:
			r.Failures.Status503++
		case c.FinalStatus >= 300 && c.Cancel == 0:
			r.Failures.Other++
			r.Failures.ByStatus[c.FinalStatus]++
		case c.OK == 0:
			r.Failures.Timeout++
		default:
			r.Failures.NoBye++
		}
		r.Failures.Total++
	}
	r.InviteTo200 = Summarize(setup)
	r.Overrun = Summarize(overrun)
	if r.Attempted > 1 && last > first {
		// The span of the INVITEs covers attempted−1 intervals.
		span := ms(last-first) / 1000 * float64(r.Attempted) / float64(r.Attempted-1)
		r.AttemptedPerSec = float64(r.Attempted) / span
		r.CompletedPerSec = float64(r.Completed) / span
	}
	var jitters []float64
	for _, s := range t.Streams {
		if s.Voiced == 0 {
			continue
		}
		r.RTP.Streams++
		r.RTP.Packets += int(s.Packets)
		r.RTP.Voiced += int(s.Voiced)
		r.RTP.Lost += int(s.Lost)
		if s.jitterSet {
			jitters = append(jitters, s.JitterNS/1e6)
			r.RTP.JitterMaxMS = max(r.RTP.JitterMaxMS, s.MaxJitterNS/1e6)
		}
	}
	if len(jitters) > 0 {
		r.RTP.JitterMeanMS = Summarize(jitters).Mean
	}
	if t.Gaps != nil && t.Gaps.n > 0 {
		r.RTP.GapP99MS, r.RTP.GapMaxMS = t.Gaps.percentileMS(99), t.Gaps.maxMS()
	}
}

// kneeOf returns the knee of a ramp: the highest rate, below the first
// failing step, whose step had no failure, reached 90% of its target rate
// and kept INVITE→200 p99 within bound. ok is false when no step passed.
func kneeOf(steps []Result, bound time.Duration) (rate int, ok bool) {
	sorted := slices.Clone(steps)
	slices.SortFunc(sorted, func(a, b Result) int { return a.Rate - b.Rate })
	for _, s := range sorted {
		if !stepPassed(s, bound) {
			break
		}
		rate, ok = s.Rate, true
	}
	return rate, ok
}

// stepPassed is the knee criterion for one ramp step.
func stepPassed(s Result, bound time.Duration) bool {
	return s.Failures.Total == 0 && s.Attempted > 0 && s.Completed == s.Attempted && s.SIPp.Signal == "" &&
		float64(s.Attempted) >= 0.95*float64(s.Calls) &&
		s.AttemptedPerSec >= 0.9*float64(s.Rate) &&
		s.InviteTo200.N > 0 && s.InviteTo200.P99 <= float64(bound.Milliseconds())
}
