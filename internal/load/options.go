package load

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Run kinds, in the order they run.
const (
	KindRamp     = "ramp"
	KindLadder   = "ladder"
	KindLatency  = "latency"
	KindOverload = "overload"
	KindRecovery = "recovery" // runs with overload
	KindSmoke    = "smoke"
)

// AllRuns are the runs Options.Runs may name.
var AllRuns = []string{KindRamp, KindLadder, KindLatency, KindOverload}

// Options configure the harness. DefaultOptions is sized for a 2-core
// machine: the whole set takes about 5-8 minutes.
type Options struct {
	ServerBin string // the switchboard binary
	SIPpBin   string // sipp
	Scenario  string // the SIPp scenario (test/load/uac_load.xml)
	// WorkDir holds configs, data, logs and SIPp's files; empty: a temporary
	// directory, removed at the end unless Keep.
	WorkDir string
	Keep    bool

	MaxConcurrent int      // the server's calls.maxConcurrent (0: unlimited)
	MaxSetupRate  float64  // the server's calls.maxSetupRate (0: unlimited)
	MediaWorkers  int      // the server's media.workers (0: one per core)
	DebugListen   string   // the server's http.debugListen (profiles), empty: off
	Runs          []string // which of AllRuns, in that order

	// Ramp: each step places RampStep × rate calls with a RatePrompt prompt.
	RampRates      []int
	RampStep       time.Duration
	RampExtraSteps int           // steps still run after the first failing one
	RatePrompt     time.Duration // prompt of the ramp, overload and recovery
	KneeP99        time.Duration // INVITE→200 p99 a knee step must stay within
	KneeRate       int           // the knee when the ramp does not run

	// Ladder: hold each level of concurrent calls with a LadderPrompt prompt.
	LadderLevels []int
	LadderPrompt time.Duration

	// Latency: INVITE→200 while LatencyConcurrency calls are up.
	LatencyConcurrency int
	LatencyCalls       int
	LatencyPrompt      time.Duration

	// Overload at OverloadFactor × the knee for OverloadDuration, then
	// recovery at the knee for RecoveryDuration.
	OverloadFactor   float64
	OverloadDuration time.Duration
	RecoveryDuration time.Duration

	// RTPStreams is about how many concurrent calls' prompt RTP the
	// capture follows (a power-of-two sample of the calls).
	RTPStreams int
	NoCapture  bool // use SIPp's timings even when a capture is possible

	Log *slog.Logger
}

// DefaultOptions returns the defaults of cmd/sbload.
func DefaultOptions() Options {
	return Options{
		ServerBin:          "bin/switchboard",
		SIPpBin:            "sipp",
		Scenario:           "test/load/uac_load.xml",
		Runs:               slices.Clone(AllRuns),
		RampRates:          []int{50, 100, 200, 300, 400, 500, 600, 800, 1000},
		RampStep:           8 * time.Second,
		RampExtraSteps:     1,
		RatePrompt:         2 * time.Second,
		KneeP99:            250 * time.Millisecond,
		KneeRate:           50,
		LadderLevels:       []int{100, 500, 1000, 2000},
		LadderPrompt:       20 * time.Second,
		LatencyConcurrency: 100,
		LatencyCalls:       300,
		LatencyPrompt:      5 * time.Second,
		OverloadFactor:     1.5,
		OverloadDuration:   15 * time.Second,
		RecoveryDuration:   8 * time.Second,
		RTPStreams:         32,
	}
}

// validate checks the options that would make a run meaningless.
func (o *Options) validate() error {
	var errs []error
	for _, r := range o.Runs {
		if !slices.Contains(AllRuns, r) {
			errs = append(errs, fmt.Errorf("unknown run %q (want %v)", r, AllRuns))
		}
	}
	for _, r := range o.RampRates {
		if r <= 0 {
			errs = append(errs, fmt.Errorf("ramp rate %d must be positive", r))
		}
	}
	for _, n := range o.LadderLevels {
		if n <= 0 {
			errs = append(errs, fmt.Errorf("ladder level %d must be positive", n))
		}
	}
	if o.RampStep <= 0 || o.RatePrompt <= 0 || o.LadderPrompt <= 0 || o.LatencyPrompt <= 0 {
		errs = append(errs, errors.New("step and prompt durations must be positive"))
	}
	if o.KneeRate <= 0 || o.OverloadFactor <= 0 || o.LatencyConcurrency <= 0 || o.LatencyCalls <= 0 || o.RTPStreams <= 0 {
		errs = append(errs, errors.New("knee rate, overload factor, latency concurrency and calls, RTP streams must be positive"))
	}
	if o.MaxConcurrent < 0 {
		errs = append(errs, errors.New("max concurrent must not be negative"))
	}
	return errors.Join(errs...)
}

func (o *Options) has(kind string) bool { return slices.Contains(o.Runs, kind) }
