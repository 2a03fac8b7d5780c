package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sippSpec is one SIPp run: Calls calls at Rate calls/s, at most Limit at
// once, against the server at Remote.
type sippSpec struct {
	Bin       string
	Scenario  string
	Dir       string // working directory: audio, statistics, traces
	Remote    string // server ip:port
	Port      int    // SIPp's SIP port
	MediaPort int    // SIPp's RTP port (it also binds MediaPort+2)
	Rate      int
	Limit     int
	Calls     int
	// RecvTimeout bounds each wait for a message (the 200, the BYE).
	RecvTimeout time.Duration
	// Bound is SIPp's -timeout; it is killed a little after it.
	Bound time.Duration
	// TraceMessages keeps SIPp's message trace (messages.log); for small
	// runs only.
	TraceMessages bool
}

// sippResult is what SIPp reported.
type sippResult struct {
	Dir        string
	ExitCode   int  // see sipp(1); −1 when killed
	Killed     bool // it overran Bound and was killed
	Created    int
	Successful int
	Failed     int
	// FailedBy counts failures by SIPp's cause (its Failed…(C) counters
	// without the prefix: "UnexpectedMessage", "TimeoutOnRecv", …).
	FailedBy map[string]int
	// ResponseTimesMS are SIPp's INVITE→200 times (rtd), one per call.
	ResponseTimesMS []float64
	Retransmissions int
	// CPUPercent is SIPp's CPU time over its run time (of one core).
	CPUPercent float64
	// Signal names the signal that ended SIPp when it crashed (SIPp 3.6.1
	// segfaults now and then at high rates); empty otherwise.
	Signal string
}

// callerAudioFile is the raw µ-law the scenario streams (rtp_stream).
const callerAudioFile = "caller.ulaw"

// runSIPp runs SIPp to completion (or until ctx ends or it overruns its
// bound, when it is killed) and parses its statistics.
func runSIPp(ctx context.Context, spec sippSpec, log *slog.Logger) (*sippResult, error) {
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("sipp: %w", err)
	}
	if err := os.WriteFile(filepath.Join(spec.Dir, callerAudioFile), callerAudio(), 0o644); err != nil {
		return nil, fmt.Errorf("sipp: writing caller audio: %w", err)
	}
	ctrlPort, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	args := sippArgs(spec, ctrlPort)
	out, err := os.Create(filepath.Join(spec.Dir, "stdout.log"))
	if err != nil {
		return nil, fmt.Errorf("sipp: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(spec.Bin, args...)
	cmd.Dir = spec.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childSysProcAttr()
	log.Debug("sipp", "args", strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sipp: start %s: %w", spec.Bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	res := &sippResult{Dir: spec.Dir}
	started := time.Now()
	timer := time.NewTimer(spec.Bound + 15*time.Second)
	defer timer.Stop()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		killGroup(cmd, done)
		return nil, fmt.Errorf("sipp: %w", ctx.Err())
	case <-timer.C:
		log.Warn("sipp overran its bound; killing it", "bound", spec.Bound)
		killGroup(cmd, done)
		res.Killed = true
	}
	res.ExitCode = -1
	if ps := cmd.ProcessState; ps != nil {
		if !res.Killed {
			res.ExitCode = ps.ExitCode()
			if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				res.Signal = ws.Signal().String()
			}
		}
		if wall := time.Since(started); wall > 0 {
			res.CPUPercent = float64(ps.UserTime()+ps.SystemTime()) / float64(wall) * 100
		}
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return nil, fmt.Errorf("sipp: %w", waitErr)
	}
	if (res.ExitCode == 254 || res.ExitCode == 255) && !fileExists(filepath.Join(spec.Dir, "stat.csv")) {
		return nil, fmt.Errorf("sipp: fatal error (exit %d): %s", res.ExitCode, tailFile(filepath.Join(spec.Dir, "stdout.log"), 1500))
	}
	if err := res.readStats(filepath.Join(spec.Dir, "stat.csv")); err != nil {
		return res, err
	}
	res.ResponseTimesMS = readRTT(spec.Dir)
	return res, nil
}

// sippArgs is SIPp's command line for spec.
func sippArgs(spec sippSpec, ctrlPort int) []string {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	args := []string{
		"-sf", spec.Scenario,
		"-t", "u1",
		"-i", "127.0.0.1", "-bind_local",
		"-p", strconv.Itoa(spec.Port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(spec.MediaPort),
		"-ci", "127.0.0.1", "-cp", strconv.Itoa(ctrlPort),
		"-s", ownedNumber,
		"-r", strconv.Itoa(spec.Rate), "-rp", "1000",
		"-l", strconv.Itoa(spec.Limit),
		"-m", strconv.Itoa(spec.Calls),
		"-recv_timeout", ms(spec.RecvTimeout),
		"-timeout", strconv.Itoa(int(spec.Bound.Seconds()+0.999)) + "s",
		"-buff_size", strconv.Itoa(4 << 20),
		"-nostdin",
		"-trace_stat", "-stf", filepath.Join(spec.Dir, "stat.csv"), "-fd", "1",
		"-trace_rtt", "-rtt_freq", "1",
		"-trace_err", "-error_file", filepath.Join(spec.Dir, "errors.log"),
		"-trace_screen", "-screen_file", filepath.Join(spec.Dir, "screen.log"),
	}
	if spec.TraceMessages {
		args = append(args, "-trace_msg", "-message_file", filepath.Join(spec.Dir, "messages.log"))
	}
	return append(args, spec.Remote)
}

// killGroup ends SIPp's process group (SIGTERM, then SIGKILL) and waits.
func killGroup(cmd *exec.Cmd, done <-chan error) {
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
}

// readStats reads the last row of SIPp's -trace_stat file.
func (r *sippResult) readStats(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("sipp statistics: %w", err)
	}
	st, err := parseSIPpStats(b)
	if err != nil {
		return fmt.Errorf("sipp statistics %s: %w", path, err)
	}
	num := func(k string) int { n, _ := strconv.Atoi(st[k]); return n }
	r.Created = num("TotalCallCreated")
	r.Successful = num("SuccessfulCall(C)")
	r.Failed = num("FailedCall(C)")
	r.Retransmissions = num("Retransmissions(C)")
	r.FailedBy = map[string]int{}
	for k, v := range st {
		name, ok := strings.CutPrefix(k, "Failed")
		if !ok || !strings.HasSuffix(name, "(C)") || name == "Call(C)" {
			continue
		}
		if n, _ := strconv.Atoi(v); n > 0 {
			r.FailedBy[strings.TrimSuffix(name, "(C)")] = n
		}
	}
	return nil
}

// parseSIPpStats parses a -trace_stat CSV (';'-separated, header first)
// and returns the last row by column name.
func parseSIPpStats(b []byte) (map[string]string, error) {
	var header, last []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Split(strings.TrimSuffix(line, ";"), ";")
		if header == nil {
			header = f
			continue
		}
		last = f
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if header == nil || last == nil {
		return nil, errors.New("no statistics row")
	}
	out := make(map[string]string, len(header))
	for i, h := range header {
		if i < len(last) {
			out[strings.TrimSpace(h)] = strings.TrimSpace(last[i])
		}
	}
	return out, nil
}

// readRTT reads SIPp's -trace_rtt files (<scenario>_<pid>_rtt.csv:
// "date_ms;response_time_ms;rtd_no" per call) in dir.
func readRTT(dir string) []float64 {
	files, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	var out []float64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		out = append(out, parseSIPpRTT(b)...)
	}
	return out
}

// parseSIPpRTT parses the response times of a -trace_rtt file.
func parseSIPpRTT(b []byte) []float64 {
	var out []float64
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		f := bytes.Split(bytes.TrimSpace(line), []byte(";"))
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(string(f[1]), 64)
		if err != nil { // the header
			continue
		}
		out = append(out, v)
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// tailFile returns the end of a file, for error messages.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
