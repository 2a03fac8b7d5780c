package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The server's media port range (wide: round-robin allocation rarely
// reuses a port within a run).
const (
	mediaMin = 20000
	mediaMax = 39999
)

// Harness owns what lives for the whole session: the work directory, the
// access key, the app and the capture. Servers and SIPp runs come and go.
type Harness struct {
	opts    Options
	log     *slog.Logger
	dir     string
	ownsDir bool
	key     string

	app        *App
	capture    *Capture // nil: SIPp's timings
	captureErr error

	sippPort, sippMediaPort int
	phases                  int // servers started, to name their directories
}

// New prepares a harness: it checks the binaries, makes the work
// directory, generates an access key, starts the app and opens the
// capture (when root).
func New(ctx context.Context, opts Options) (*Harness, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Harness{opts: opts, log: log}
	var err error
	if h.opts.ServerBin, err = lookBinary(opts.ServerBin); err != nil {
		return nil, fmt.Errorf("server binary: %w", err)
	}
	if h.opts.SIPpBin, err = lookBinary(opts.SIPpBin); err != nil {
		return nil, fmt.Errorf("sipp: %w (apt-get install sip-tester)", err)
	}
	if h.opts.Scenario, err = findScenario(opts.Scenario); err != nil {
		return nil, err
	}
	if opts.WorkDir == "" {
		if h.dir, err = os.MkdirTemp("", "sbload-"); err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
		h.ownsDir = !opts.Keep
	} else {
		h.dir = opts.WorkDir
		if err := os.MkdirAll(h.dir, 0o755); err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
	}
	ok := false
	defer func() {
		if !ok {
			h.Close()
		}
	}()
	if h.key, err = generateKey(ctx, h.opts.ServerBin); err != nil {
		return nil, err
	}
	if h.app, err = StartApp(log.With("component", "app")); err != nil {
		return nil, err
	}
	if h.sippPort, err = freeUDPPort(); err != nil {
		return nil, err
	}
	if h.sippMediaPort, err = freeUDPPortsOutside(mediaMin, mediaMax); err != nil {
		return nil, err
	}
	if opts.NoCapture {
		h.captureErr = errors.New("disabled by option")
	} else if h.capture, h.captureErr = OpenCapture("lo", log.With("component", "capture")); h.captureErr != nil {
		h.capture = nil
		log.Warn("no packet capture; using SIPp's timings", "err", h.captureErr)
	}
	ok = true
	return h, nil
}

// Dir is the work directory.
func (h *Harness) Dir() string { return h.dir }

// CaptureError says why there is no capture (nil when there is one).
func (h *Harness) CaptureError() error { return h.captureErr }

// Close stops the app and the capture and removes the work directory it
// created (unless Keep).
func (h *Harness) Close() {
	if h.app != nil {
		if err := h.app.Close(); err != nil {
			h.log.Warn("closing the app", "err", err)
		}
		h.app = nil
	}
	if h.capture != nil {
		if err := h.capture.Close(); err != nil {
			h.log.Warn("closing the capture", "err", err)
		}
		h.capture = nil
	}
	if h.ownsDir && h.dir != "" {
		if err := os.RemoveAll(h.dir); err != nil {
			h.log.Warn("removing the work directory", "dir", h.dir, "err", err)
		}
		h.dir = ""
	}
}

// lookBinary resolves a program name or path.
func lookBinary(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// findScenario resolves the scenario path, relative to the working
// directory or to any directory above it (the repository root).
func findScenario(p string) (string, error) {
	if filepath.IsAbs(p) {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("scenario: %w", err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("scenario: %w", err)
	}
	for {
		c := filepath.Join(dir, p)
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("scenario %s not found at or above the working directory", p)
		}
		dir = parent
	}
}

// phase is one server with its sampler.
type phase struct {
	name string
	srv  *Server
	smp  *sampler
	stop context.CancelFunc
	wg   sync.WaitGroup
	runs int // runs done on this server
}

// idleWait is how long a phase samples the idle server before a run.
const idleWait = 2 * time.Second

// startPhase starts a fresh server and samples it idle for a moment.
func (h *Harness) startPhase(ctx context.Context, name string) (*phase, error) {
	h.phases++
	dir := filepath.Join(h.dir, fmt.Sprintf("%02d-%s", h.phases, name))
	srv, err := StartServer(ctx, serverConfig{
		Bin: h.opts.ServerBin, Dir: dir, Key: h.key, EventGridURL: h.app.EventGridURL(),
		MaxConcurrent: h.opts.MaxConcurrent, MaxSetupRate: h.opts.MaxSetupRate, MediaWorkers: h.opts.MediaWorkers, DebugListen: h.opts.DebugListen, MediaMin: mediaMin, MediaMax: mediaMax, LogLevel: "warn",
	}, h.log.With("component", "server", "phase", name))
	if err != nil {
		return nil, fmt.Errorf("phase %s: %w", name, err)
	}
	h.app.SetServer(srv.API())
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p := &phase{name: name, srv: srv, smp: newSampler(srv.PID(), srv.API()), stop: cancel}
	p.wg.Go(func() { p.smp.run(sctx) })
	select {
	case <-ctx.Done():
		p.close()
		return nil, ctx.Err()
	case <-time.After(idleWait):
	}
	return p, nil
}

// close stops the sampler and the server.
func (p *phase) close() {
	p.stop()
	p.wg.Wait()
	p.srv.Stop()
}

// settleTimeout bounds the wait for an idle server after a run: a little
// more than the media inactivity timeout, which ends calls whose caller
// went silent.
const settleTimeout = 35 * time.Second

// runOnce runs SIPp once against the phase's server and measures.
func (h *Harness) runOnce(ctx context.Context, p *phase, s runSpec) (Result, *runData, error) {
	h.log.Info("run", "name", s.Name, "rate", s.Rate, "limit", s.Limit, "calls", s.Calls, "prompt", s.Prompt)
	h.app.SetPrompt(s.Prompt)
	expected := min(s.Limit, int(float64(s.Rate)*(s.Prompt.Seconds()+1))+1)
	f := captureFilter{
		ServerSIPPort: uint16(p.srv.SIPPort), MediaMin: mediaMin, MediaMax: mediaMax,
		SIPpMediaPort: uint16(h.sippMediaPort), SampleMask: sampleMaskFor(expected, h.opts.RTPStreams),
	}
	if h.capture != nil {
		if err := h.capture.Reset(f); err != nil {
			return Result{}, nil, err
		}
	}
	h.app.Snapshot() // drop what came before
	d := &runData{spec: s, freshServer: p.runs == 0}
	p.runs++
	runDir := filepath.Join(p.srv.cfg.Dir, fmt.Sprintf("sipp-%02d-%s", p.runs, sanitize(s.Name)))
	start := time.Now()
	d.idle = summarizeProc(p.smp.between(start.Add(-idleWait), start))

	recvTimeout := s.Prompt + 15*time.Second
	spec := sippSpec{
		Bin: h.opts.SIPpBin, Scenario: h.opts.Scenario, Dir: runDir,
		Remote: "127.0.0.1:" + strconv.Itoa(p.srv.SIPPort), Port: h.sippPort, MediaPort: h.sippMediaPort,
		Rate: s.Rate, Limit: s.Limit, Calls: s.Calls, RecvTimeout: recvTimeout,
		// Placing the calls, then the longest a call can take: a wait for
		// the 200 and one for the BYE, each up to recvTimeout.
		Bound:         time.Duration(float64(s.Calls)/float64(s.Rate)*float64(time.Second)) + 2*recvTimeout + 10*time.Second,
		TraceMessages: s.Trace,
	}
	logBefore := p.srv.LogMessages()
	cpu0 := selfCPU()
	sres, err := runSIPp(ctx, spec, h.log.With("component", "sipp"))
	end := time.Now()
	if wall := end.Sub(start); wall > 0 {
		d.harnessCPU = float64(selfCPU()-cpu0) / float64(wall) * 100
	}
	if err != nil && sres == nil {
		return Result{}, nil, fmt.Errorf("run %s: %w", s.Name, err)
	}
	if err != nil {
		h.log.Warn("sipp statistics", "run", s.Name, "err", err)
	}
	d.sipp = sres
	select {
	case <-p.srv.Exited():
		return Result{}, nil, fmt.Errorf("run %s: %w: %s", s.Name, errServerExited, p.srv.LogTail(2000))
	default:
	}
	d.settleMS, d.leftActive = h.settle(ctx, p)
	if h.capture != nil {
		d.trace = h.capture.Snapshot()
	}
	d.app = h.app.Snapshot()
	samples := p.smp.between(start, end)
	d.peakActive = summarizeProc(samples).MaxActive
	steady := steadyWindow(samples, 0.9)
	d.steady = summarizeProc(steady)
	if len(steady) > 1 {
		d.steadySeconds = steady[len(steady)-1].At.Sub(steady[0].At).Seconds()
	}
	d.serverLog = logDelta(logBefore, p.srv.LogMessages())
	r := buildResult(d)
	h.log.Info("run done", "name", s.Name, "attempted", r.Attempted, "completed", r.Completed,
		"failures", r.Failures.Total, "invite_200_p99_ms", r.InviteTo200.P99)
	return r, d, nil
}

// run is runOnce, repeated once when SIPp crashed (SIPp 3.6.1 segfaults
// now and then at a few hundred calls/s): a crash of the load generator
// says nothing about the server.
func (h *Harness) run(ctx context.Context, p *phase, s runSpec) (Result, *runData, error) {
	r, d, err := h.runOnce(ctx, p, s)
	if err != nil || r.SIPp.Signal == "" {
		return r, d, err
	}
	h.log.Warn("sipp crashed; running the step again", "run", s.Name, "signal", r.SIPp.Signal, "created", r.SIPp.Created)
	if err := sleepCtx(ctx, idleWait); err != nil {
		return r, d, err
	}
	crashed := r
	r, d, err = h.runOnce(ctx, p, s)
	if err == nil {
		r.Note = strings.TrimSpace(fmt.Sprintf("%s (re-run: the first attempt's SIPp crashed with %s after %d calls)", r.Note, crashed.SIPp.Signal, crashed.SIPp.Created))
	}
	return r, d, err
}

// settle waits until the server has no active call and no pending event.
// It returns how long that took (−1 if not within settleTimeout) and the
// active calls left at the end.
func (h *Harness) settle(ctx context.Context, p *phase) (float64, int) {
	start := time.Now()
	deadline := start.Add(settleTimeout)
	left := -1
	for {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := p.srv.API().status(sctx)
		cancel()
		if err == nil {
			left = st.ActiveCalls
			if st.ActiveCalls == 0 && st.PendingEvents == 0 {
				return float64(time.Since(start)) / float64(time.Millisecond), 0
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return -1, left
		}
		select {
		case <-ctx.Done():
		case <-p.srv.Exited():
			return -1, left
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// sanitize makes a run name usable as a file name.
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}
