// Command sbload is Switchboard's load harness: it runs the server, a Call
// Automation app and SIPp on this machine and prints how many calls the
// server carries (see internal/load and docs/BENCHMARKS.md).
//
//	sbload [flags]                  # every run with the defaults (`make load`)
//	sbload -runs ramp -ramp-rates 50,100,200 -json out.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/switchboard-oss/switchboard/internal/load"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o := load.DefaultOptions()
	fs := flag.NewFlagSet("sbload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.ServerBin, "server", o.ServerBin, "switchboard binary")
	fs.StringVar(&o.SIPpBin, "sipp", o.SIPpBin, "SIPp binary")
	fs.StringVar(&o.Scenario, "scenario", o.Scenario, "SIPp scenario (relative paths are looked up from the working directory upwards)")
	fs.StringVar(&o.WorkDir, "workdir", "", "work directory (default: a temporary one, removed at the end)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary work directory (configs, server logs, SIPp files)")
	fs.IntVar(&o.MaxConcurrent, "max-concurrent", o.MaxConcurrent, "the server's calls.maxConcurrent (0: unlimited)")
	fs.Float64Var(&o.MaxSetupRate, "max-setup-rate", o.MaxSetupRate, "the server's calls.maxSetupRate in calls/s (0: unlimited)")
	fs.IntVar(&o.MediaWorkers, "media-workers", o.MediaWorkers, "the server's media.workers (0: one per core)")
	fs.StringVar(&o.DebugListen, "pprof", "", "serve the server's Go profiles on this address (http.debugListen), e.g. 127.0.0.1:6060")
	runs := fs.String("runs", strings.Join(o.Runs, ","), "runs, from: "+strings.Join(load.AllRuns, ","))
	rampRates := fs.String("ramp-rates", joinInts(o.RampRates), "ramp steps in calls/s")
	fs.DurationVar(&o.RampStep, "ramp-step", o.RampStep, "length of each ramp step (calls = rate × step)")
	fs.IntVar(&o.RampExtraSteps, "ramp-extra", o.RampExtraSteps, "ramp steps still run after the first failing one")
	fs.DurationVar(&o.RatePrompt, "rate-prompt", o.RatePrompt, "prompt length of the ramp, overload and recovery runs")
	fs.DurationVar(&o.KneeP99, "knee-p99", o.KneeP99, "INVITE→200 p99 bound of a knee step")
	fs.IntVar(&o.KneeRate, "knee", o.KneeRate, "knee in calls/s to use when the ramp does not run")
	ladder := fs.String("ladder", joinInts(o.LadderLevels), "concurrency ladder levels")
	fs.DurationVar(&o.LadderPrompt, "ladder-prompt", o.LadderPrompt, "prompt length of the ladder runs")
	fs.IntVar(&o.LatencyConcurrency, "latency-concurrency", o.LatencyConcurrency, "concurrent calls of the latency run")
	fs.IntVar(&o.LatencyCalls, "latency-calls", o.LatencyCalls, "calls of the latency run")
	fs.DurationVar(&o.LatencyPrompt, "latency-prompt", o.LatencyPrompt, "prompt length of the latency run")
	fs.Float64Var(&o.OverloadFactor, "overload-factor", o.OverloadFactor, "overload rate as a multiple of the knee")
	fs.DurationVar(&o.OverloadDuration, "overload-duration", o.OverloadDuration, "how long the overload places calls")
	fs.DurationVar(&o.RecoveryDuration, "recovery-duration", o.RecoveryDuration, "how long the recovery run places calls")
	fs.IntVar(&o.RTPStreams, "rtp-streams", o.RTPStreams, "about how many concurrent calls' RTP the capture follows")
	fs.BoolVar(&o.NoCapture, "no-capture", false, "use SIPp's timings even as root")
	jsonPath := fs.String("json", "", "also write the report as JSON to this file")
	verbose := fs.Bool("v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	o.Runs = splitList(*runs)
	if o.RampRates, err = parseInts(*rampRates); err != nil {
		fmt.Fprintln(stderr, "sbload: -ramp-rates:", err)
		return 2
	}
	if o.LadderLevels, err = parseInts(*ladder); err != nil {
		fmt.Fprintln(stderr, "sbload: -ladder:", err)
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	o.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, runErr := load.Run(ctx, o)
	if rep != nil {
		if err := rep.WriteTable(stdout); err != nil {
			fmt.Fprintln(stderr, "sbload:", err)
		}
		if *jsonPath != "" {
			if err := writeJSON(*jsonPath, rep); err != nil {
				fmt.Fprintln(stderr, "sbload:", err)
				return 1
			}
		}
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			fmt.Fprintln(stderr, "sbload: interrupted")
			return 130
		}
		fmt.Fprintln(stderr, "sbload:", runErr)
		return 1
	}
	return 0
}

func writeJSON(path string, rep *load.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
