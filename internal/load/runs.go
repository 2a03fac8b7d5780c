package load

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Run runs the harness with opts and returns its report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	h, err := New(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.Run(ctx)
}

// Run runs the selected runs in order. On an error (or interrupt) it
// returns the report so far along with the error.
func (h *Harness) Run(ctx context.Context) (*Report, error) {
	rep := newReport(h)
	knee := h.opts.KneeRate
	if h.opts.has(KindRamp) {
		steps, err := h.ramp(ctx, rep)
		rep.Results = append(rep.Results, steps...)
		if err != nil {
			return rep, err
		}
		if k, ok := kneeOf(steps, h.opts.KneeP99); ok {
			knee = k
			rep.Knee = k
			rep.note("knee: %d calls/s (highest ramp step with no failure, ≥90%% of its target rate and INVITE→200 p99 ≤ %v)", k, h.opts.KneeP99)
			if len(steps) > 0 && stepPassed(steps[len(steps)-1], h.opts.KneeP99) {
				rep.note("every ramp step passed: the knee is at least %d calls/s (add higher -ramp-rates)", k)
			}
		} else {
			rep.note("no ramp step met the knee criterion; later runs use %d calls/s", knee)
		}
	} else {
		rep.note("ramp not run: the knee is taken as %d calls/s (-knee)", knee)
	}
	if h.opts.has(KindLadder) {
		for _, n := range h.opts.LadderLevels {
			r, err := h.ladderRung(ctx, n, knee)
			if err != nil {
				return rep, err
			}
			rep.Results = append(rep.Results, r)
		}
	}
	if h.opts.has(KindLatency) {
		r, err := h.latency(ctx)
		if err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, r)
	}
	if h.opts.has(KindOverload) {
		rs, err := h.overload(ctx, knee)
		rep.Results = append(rep.Results, rs...)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// ramp runs the setup-rate steps on one server until RampExtraSteps steps
// after the first failing one.
func (h *Harness) ramp(ctx context.Context, rep *Report) ([]Result, error) {
	p, err := h.startPhase(ctx, KindRamp)
	if err != nil {
		return nil, err
	}
	defer p.close()
	var out []Result
	failing := -1
	for i, rate := range h.opts.RampRates {
		if failing >= 0 && i-failing > h.opts.RampExtraSteps {
			break
		}
		if i > 0 {
			if err := sleepCtx(ctx, idleWait); err != nil {
				return out, err
			}
		}
		calls := max(int(math.Round(float64(rate)*h.opts.RampStep.Seconds())), 1)
		r, _, err := h.run(ctx, p, runSpec{
			Name: fmt.Sprintf("ramp %d/s", rate), Kind: KindRamp, Rate: rate, Limit: rampLimit(rate, h.opts.RatePrompt),
			Calls: calls, Prompt: h.opts.RatePrompt,
		})
		if err != nil {
			return out, err
		}
		out = append(out, r)
		if failing < 0 && !stepPassed(r, h.opts.KneeP99) {
			failing = i
		}
	}
	return out, nil
}

// rampLimit is a concurrency limit that does not hold back a rate run:
// room for every call of 3× its nominal length.
func rampLimit(rate int, prompt time.Duration) int {
	return max(int(float64(rate)*3*(prompt.Seconds()+1)), 10)
}

// overloadLimit keeps SIPp placing calls at the overload rate even when
// every call waits out the callers' patience (prompt + 15 s) twice: the
// overload is an open loop.
func overloadLimit(rate int, prompt time.Duration) int {
	return max(int(float64(rate)*(2*prompt.Seconds()+30)), 10)
}

// ladderRung holds n concurrent calls on a fresh server. Calls are placed
// at the knee rate, or faster when that would not reach n within three
// quarters of the prompt.
func (h *Harness) ladderRung(ctx context.Context, n, knee int) (Result, error) {
	p, err := h.startPhase(ctx, fmt.Sprintf("ladder-%d", n))
	if err != nil {
		return Result{}, err
	}
	defer p.close()
	rate := knee
	note := ""
	if need := int(math.Ceil(float64(n) / (0.75 * h.opts.LadderPrompt.Seconds()))); rate < need {
		note = fmt.Sprintf("filled at %d calls/s, above the knee (%d), to reach %d calls", need, knee, n)
		rate = need
	}
	r, _, err := h.run(ctx, p, runSpec{
		Name: fmt.Sprintf("ladder %d", n), Kind: KindLadder, Rate: rate, Limit: n, Calls: n, Prompt: h.opts.LadderPrompt,
	})
	r.Note = strings.TrimSpace(note + " " + r.Note)
	return r, err
}

// latency measures INVITE→200 while LatencyConcurrency calls are up: the
// rate slightly overfills the concurrency limit, so SIPp holds it.
func (h *Harness) latency(ctx context.Context) (Result, error) {
	p, err := h.startPhase(ctx, KindLatency)
	if err != nil {
		return Result{}, err
	}
	defer p.close()
	n := h.opts.LatencyConcurrency
	rate := max(int(math.Ceil(1.25*float64(n)/h.opts.LatencyPrompt.Seconds())), 1)
	r, _, err := h.run(ctx, p, runSpec{
		Name: fmt.Sprintf("latency @%d", n), Kind: KindLatency, Rate: rate, Limit: n,
		Calls: h.opts.LatencyCalls, Prompt: h.opts.LatencyPrompt,
	})
	return r, err
}

// overload runs OverloadFactor × knee for OverloadDuration, then, once the
// server is idle again, the knee rate for RecoveryDuration, on one server.
func (h *Harness) overload(ctx context.Context, knee int) ([]Result, error) {
	p, err := h.startPhase(ctx, KindOverload)
	if err != nil {
		return nil, err
	}
	defer p.close()
	rate := max(int(math.Round(h.opts.OverloadFactor*float64(knee))), 1)
	var out []Result
	r, _, err := h.run(ctx, p, runSpec{
		Name: fmt.Sprintf("overload %d/s", rate), Kind: KindOverload, Rate: rate, Limit: overloadLimit(rate, h.opts.RatePrompt),
		Calls: max(int(float64(rate)*h.opts.OverloadDuration.Seconds()), 1), Prompt: h.opts.RatePrompt,
	})
	if err != nil {
		return out, err
	}
	out = append(out, r)
	if err := sleepCtx(ctx, idleWait); err != nil {
		return out, err
	}
	r, _, err = h.run(ctx, p, runSpec{
		Name: fmt.Sprintf("recovery %d/s", knee), Kind: KindRecovery, Rate: knee, Limit: rampLimit(knee, h.opts.RatePrompt),
		Calls: max(int(float64(knee)*h.opts.RecoveryDuration.Seconds()), 1), Prompt: h.opts.RatePrompt,
	})
	if err != nil {
		return out, err
	}
	return append(out, r), nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
