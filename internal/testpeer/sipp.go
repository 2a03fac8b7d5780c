//go:build unix

package testpeer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SIPp exit codes (sipp(1)).
const (
	SIPpExitAllOK        = 0   // all calls succeeded
	SIPpExitCallFailed   = 1   // at least one call failed
	SIPpExitInternalCmd  = 97  // exit on internal command
	SIPpExitNoCalls      = 99  // normal exit without calls processed
	SIPpExitFatal        = 255 // -1: fatal error (also: -timeout reached with -timeout_error)
	SIPpExitSocketFailed = 254 // -2: fatal error binding a socket
)

// SIPpOptions configures one SIPp run.
type SIPpOptions struct {
	// Scenario is a file name in test/sipp (e.g. "uac_call.xml") or a path.
	Scenario string
	// Remote is the peer's "host:port" for caller (uac) scenarios. Empty for
	// callee (uas) scenarios, which wait for a call.
	Remote string
	// Service is the Request-URI user of caller scenarios (-s): the dialled
	// number. Empty: SIPp's default "service".
	Service string
	// Vars are scenario variables (-set name value). Each scenario declares
	// the names it accepts in its header comment; SIPp refuses unknown names.
	Vars map[string]string
	// LocalIP is SIPp's address for SIP and RTP (-i, -mi). Default 127.0.0.1.
	LocalIP string
	// Port is the local SIP port (-p); 0 picks a free one.
	Port int
	// MediaPort is the local RTP port (-mp; SIPp also binds MediaPort+2);
	// 0 picks a free one.
	MediaPort int
	// Calls is the number of calls (-m); default 1.
	Calls int
	// Timeout bounds the whole run: passed as -timeout (with -timeout_error)
	// and enforced by Wait, which kills SIPp when it overruns (SIPp itself
	// waits for calls in progress, e.g. retransmitting, past -timeout).
	// Default 30s.
	Timeout time.Duration
	// RecvTimeout is SIPp's -recv_timeout: how long a call waits for an
	// expected message before it fails. Default: Timeout.
	RecvTimeout time.Duration
	// Transport is SIPp's -t; default "u1" (UDP, one socket).
	Transport string
	// Files are written to the run directory (SIPp's working directory)
	// before it starts, e.g. audio for rtp_stream or an injection file.
	Files map[string][]byte
	// ExtraArgs are appended to the command line before the remote address.
	ExtraArgs []string
	// NoWaitReady skips waiting, in RunSIPp, for a callee scenario's SIP
	// socket to be bound.
	NoWaitReady bool
}

// SIPpRun is a running (or finished) SIPp process.
type SIPpRun struct {
	t         testing.TB
	opts      SIPpOptions
	cmd       *exec.Cmd
	dir       string
	name      string
	port      int
	mediaPort int
	args      []string

	done     chan struct{}
	exitCode int
	waitErr  error

	stopOnce sync.Once
}

// RunSIPp starts SIPp and returns once it runs (for a callee scenario: once
// its SIP socket is bound, so the peer can send the INVITE). The run
// directory holds the message trace (messages.log), the <log> output
// (logs.log), unexpected messages (errors.log), SIPp's screen output
// (screen.log) and the audio files scenarios play (pcmu_tone.raw,
// pcma_tone.raw: 1 s of a 440 Hz tone, looped by rtp_stream). SIPp is
// stopped at test cleanup.
func RunSIPp(t testing.TB, opts SIPpOptions) *SIPpRun {
	t.Helper()
	bin := findBinary(t, "TEST_SIPP", "sipp", "apt-get install sip-tester")
	if opts.Scenario == "" {
		t.Fatal("testpeer: SIPpOptions.Scenario is required")
	}
	scenario := opts.Scenario
	if !filepath.IsAbs(scenario) && !strings.ContainsRune(scenario, os.PathSeparator) {
		scenario = filepath.Join(mustRepoRoot(t), "test", "sipp", scenario)
	}
	if _, err := os.Stat(scenario); err != nil {
		t.Fatalf("testpeer: scenario: %v", err)
	}
	if opts.LocalIP == "" {
		opts.LocalIP = "127.0.0.1"
	}
	if opts.Calls == 0 {
		opts.Calls = 1
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.RecvTimeout == 0 {
		opts.RecvTimeout = opts.Timeout
	}
	if opts.Transport == "" {
		opts.Transport = "u1"
	}
	var err error
	if opts.Port == 0 {
		if opts.Port, err = FreeUDPPort(); err != nil {
			t.Fatal(err)
		}
	}
	if opts.MediaPort == 0 {
		if opts.MediaPort, err = freeUDPPortPair(2); err != nil {
			t.Fatal(err)
		}
	}
	ctrlPort, err := FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}

	name := strings.TrimSuffix(filepath.Base(scenario), ".xml")
	dir, err := os.MkdirTemp(t.TempDir(), "sipp-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	tone := Tone(440, 8000, 8000, 8000)
	files := map[string][]byte{
		"pcmu_tone.raw": ULawEncode(tone),
		"pcma_tone.raw": ALawEncode(tone),
	}
	for k, v := range opts.Files {
		files[k] = v
	}
	for k, v := range files {
		if err := os.WriteFile(filepath.Join(dir, k), v, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	args := []string{
		"-sf", scenario,
		"-t", opts.Transport,
		"-i", opts.LocalIP, "-bind_local",
		"-p", strconv.Itoa(opts.Port),
		"-mi", opts.LocalIP,
		"-mp", strconv.Itoa(opts.MediaPort),
		"-ci", opts.LocalIP,
		"-cp", strconv.Itoa(ctrlPort),
		"-m", strconv.Itoa(opts.Calls),
		"-l", strconv.Itoa(opts.Calls),
		"-timeout", fmt.Sprintf("%dms", opts.Timeout.Milliseconds()), "-timeout_error",
		"-recv_timeout", fmt.Sprintf("%dms", opts.RecvTimeout.Milliseconds()),
		"-nostdin",
		"-aa",
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
		"-trace_logs", "-log_file", filepath.Join(dir, "logs.log"),
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
	}
	if opts.Service != "" {
		args = append(args, "-s", opts.Service)
	}
	keys := make([]string, 0, len(opts.Vars))
	for k := range opts.Vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-set", k, opts.Vars[k])
	}
	args = append(args, opts.ExtraArgs...)
	if opts.Remote != "" {
		args = append(args, opts.Remote)
	}

	stdout, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = stdout
	cmd.Stderr = stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		stdout.Close()
		t.Fatalf("testpeer: start sipp: %v", err)
	}
	r := &SIPpRun{
		t: t, opts: opts, cmd: cmd, dir: dir, name: name,
		port: opts.Port, mediaPort: opts.MediaPort, args: args,
		done: make(chan struct{}),
	}
	go func() {
		err := cmd.Wait()
		stdout.Close()
		r.exitCode = -1
		if cmd.ProcessState != nil {
			r.exitCode = cmd.ProcessState.ExitCode()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				r.exitCode = -1
			}
		}
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			r.waitErr = err
		}
		close(r.done)
	}()
	t.Logf("testpeer: sipp %s on %s:%d (media %d), dir %s", name, opts.LocalIP, opts.Port, opts.MediaPort, dir)
	t.Cleanup(func() {
		r.Stop()
		if t.Failed() {
			r.dumpLogs()
		}
	})
	if opts.Remote == "" && !opts.NoWaitReady {
		r.waitBound()
	}
	return r
}

// waitBound waits until SIPp's SIP socket is bound (or SIPp exited).
func (r *SIPpRun) waitBound() {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			r.t.Fatalf("testpeer: sipp %s exited (code %d) before listening; errors: %s; output: %s",
				r.name, r.exitCode, r.Errors(), tail(r.readFile("stdout.log"), 2000))
		default:
		}
		bound, ok := udpPortBound(r.port)
		if !ok {
			time.Sleep(300 * time.Millisecond) // no /proc: give it a moment
			return
		}
		if bound {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("testpeer: sipp %s did not bind UDP %d", r.name, r.port)
}

// Port is SIPp's local SIP port.
func (r *SIPpRun) Port() int { return r.port }

// MediaPort is SIPp's local RTP port.
func (r *SIPpRun) MediaPort() int { return r.mediaPort }

// Addr is SIPp's SIP address "ip:port".
func (r *SIPpRun) Addr() string { return fmt.Sprintf("%s:%d", r.opts.LocalIP, r.port) }

// URI is a SIP URI that reaches this SIPp for user.
func (r *SIPpRun) URI(user string) string {
	if user == "" {
		return "sip:" + r.Addr()
	}
	return "sip:" + user + "@" + r.Addr()
}

// Dir is the run directory (SIPp's working directory and its trace files).
func (r *SIPpRun) Dir() string { return r.dir }

// Args is SIPp's command line (without the binary).
func (r *SIPpRun) Args() []string { return append([]string(nil), r.args...) }

// Done is closed when SIPp exited.
func (r *SIPpRun) Done() <-chan struct{} { return r.done }

// Wait waits for SIPp to exit and returns its exit code (see the SIPpExit
// constants). When ctx ends or the run overran its Timeout (plus a grace
// period) first, SIPp is killed and an error returned.
func (r *SIPpRun) Wait(ctx context.Context) (int, error) {
	timer := time.NewTimer(r.opts.Timeout + 5*time.Second)
	defer timer.Stop()
	select {
	case <-r.done:
		return r.exitCode, r.waitErr
	case <-ctx.Done():
		r.Stop()
		return r.exitCode, fmt.Errorf("testpeer: sipp %s: %w", r.name, ctx.Err())
	case <-timer.C:
		r.Stop()
		return r.exitCode, fmt.Errorf("testpeer: sipp %s still running %v after its timeout; killed", r.name, r.opts.Timeout)
	}
}

// WaitSuccess waits for SIPp and fails the test unless it exited 0.
func (r *SIPpRun) WaitSuccess(ctx context.Context) {
	r.t.Helper()
	code, err := r.Wait(ctx)
	if err != nil || code != 0 {
		r.t.Fatalf("testpeer: sipp %s: exit code %d, err %v\nerrors:\n%s\nlogs:\n%s",
			r.name, code, err, tail(r.Errors(), 4000), tail(r.Logs(), 2000))
	}
}

// Stop ends SIPp (SIGTERM, then SIGKILL after 2 s) if it still runs.
func (r *SIPpRun) Stop() {
	r.stopOnce.Do(func() {
		select {
		case <-r.done:
			return
		default:
		}
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(2 * time.Second):
			_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
	})
}

func (r *SIPpRun) readFile(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.dir, name))
	return string(b)
}

// Logs is the output of the scenario's <log> actions (-trace_logs): by
// convention one KEY=value per line.
func (r *SIPpRun) Logs() string { return r.readFile("logs.log") }

// Errors is SIPp's error trace (-trace_err): unexpected messages, timeouts.
func (r *SIPpRun) Errors() string { return r.readFile("errors.log") }

// MessageLog is SIPp's raw message trace (-trace_msg).
func (r *SIPpRun) MessageLog() string { return r.readFile("messages.log") }

// Screen is SIPp's final statistics screen (-trace_screen).
func (r *SIPpRun) Screen() string { return r.readFile("screen.log") }

// LogValues returns, in order, every value logged as KEY=value for key.
func (r *SIPpRun) LogValues(key string) []string {
	var out []string
	for _, line := range strings.Split(r.Logs(), "\n") {
		line = strings.TrimRight(line, "\r")
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// LogValue returns the last value logged as KEY=value for key.
func (r *SIPpRun) LogValue(key string) (string, bool) {
	v := r.LogValues(key)
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// WaitLog polls the <log> output until key was logged (or SIPp exited, or
// ctx ended) and returns its value; e.g. WaitLog(ctx, "RINGING") in a caller
// scenario, or "FROM_USER" in a callee scenario once the INVITE came.
func (r *SIPpRun) WaitLog(ctx context.Context, key string) (string, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if v, ok := r.LogValue(key); ok {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("testpeer: sipp %s: no %s logged: %w", r.name, key, ctx.Err())
		case <-r.done:
			if v, ok := r.LogValue(key); ok {
				return v, nil
			}
			return "", fmt.Errorf("testpeer: sipp %s exited (code %d) without logging %s; errors: %s", r.name, r.exitCode, key, tail(r.Errors(), 2000))
		case <-tick.C:
		}
	}
}

func (r *SIPpRun) dumpLogs() {
	r.t.Logf("testpeer: sipp %s %s", r.name, strings.Join(r.args, " "))
	r.t.Logf("testpeer: sipp %s logs:\n%s", r.name, tail(r.Logs(), 4000))
	r.t.Logf("testpeer: sipp %s errors:\n%s", r.name, tail(r.Errors(), 4000))
	r.t.Logf("testpeer: sipp %s messages:\n%s", r.name, tail(strings.ReplaceAll(r.MessageLog(), "\r\n", "\n"), 8000))
}

// SIPMessage is one message from SIPp's message trace.
type SIPMessage struct {
	Time      string // as SIPp printed it
	Received  bool   // false: sent by SIPp
	Transport string // "UDP", "TCP"
	Raw       string
	FirstLine string
	Method    string // requests: "INVITE", ...; empty for responses
	Status    int    // responses: 200, ...; 0 for requests
	Headers   []SIPHeader
	Body      string
}

// SIPHeader is a header line.
type SIPHeader struct{ Name, Value string }

// compact header forms (RFC 3261 7.3.3)
var compactHeaders = map[string]string{
	"i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
	"c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to", "v": "via",
}

func canonicalHeader(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if long, ok := compactHeaders[n]; ok {
		return long
	}
	return n
}

// Header returns the first value of the header (case-insensitive; compact
// forms understood), or "".
func (m SIPMessage) Header(name string) string {
	v := m.HeaderValues(name)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// HeaderValues returns every value of the header, in order.
func (m SIPMessage) HeaderValues(name string) []string {
	want := canonicalHeader(name)
	var out []string
	for _, h := range m.Headers {
		if canonicalHeader(h.Name) == want {
			out = append(out, h.Value)
		}
	}
	return out
}

// CSeqMethod is the method named in the CSeq header.
func (m SIPMessage) CSeqMethod() string {
	f := strings.Fields(m.Header("CSeq"))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

var traceSep = regexp.MustCompile(`(?m)^-{20,} (.*)$`)
var traceHead = regexp.MustCompile(`^(\w+) message (received|sent)\b`)

// Messages parses the message trace into messages, in order.
func (r *SIPpRun) Messages() []SIPMessage {
	return ParseSIPpMessageLog(r.MessageLog())
}

// ParseSIPpMessageLog parses a SIPp -trace_msg file.
func ParseSIPpMessageLog(log string) []SIPMessage {
	var out []SIPMessage
	idx := traceSep.FindAllStringSubmatchIndex(log, -1)
	for i, loc := range idx {
		end := len(log)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		block := log[loc[1]:end]
		block = strings.TrimLeft(block, "\r\n")
		head, rest, _ := strings.Cut(block, "\n")
		hm := traceHead.FindStringSubmatch(strings.TrimSpace(head))
		if hm == nil {
			continue // "Unexpected ... message received" duplicates and the like
		}
		raw := strings.TrimLeft(rest, "\r\n")
		msg := parseSIPMessage(raw)
		msg.Time = log[loc[2]:loc[3]]
		msg.Transport = hm[1]
		msg.Received = hm[2] == "received"
		out = append(out, msg)
	}
	return out
}

func parseSIPMessage(raw string) SIPMessage {
	m := SIPMessage{Raw: raw}
	head, body, found := strings.Cut(raw, "\r\n\r\n")
	if !found {
		head, body, _ = strings.Cut(raw, "\n\n")
	}
	m.Body = strings.TrimRight(body, "\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	first := true
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if first {
			m.FirstLine = line
			first = false
			if rest, ok := strings.CutPrefix(line, "SIP/2.0 "); ok {
				code, _, _ := strings.Cut(rest, " ")
				m.Status, _ = strconv.Atoi(code)
			} else {
				m.Method, _, _ = strings.Cut(line, " ")
			}
			continue
		}
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(m.Headers) > 0 {
			m.Headers[len(m.Headers)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		m.Headers = append(m.Headers, SIPHeader{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	return m
}

// FindMessage returns the first message SIPp received (received=true) or
// sent that is a request with that method or a response with that status
// (e.g. "INVITE", "BYE", "200", "487").
func (r *SIPpRun) FindMessage(received bool, methodOrStatus string) (SIPMessage, bool) {
	for _, m := range r.Messages() {
		if m.Received != received {
			continue
		}
		if m.Method == methodOrStatus || (m.Status != 0 && strconv.Itoa(m.Status) == methodOrStatus) {
			return m, true
		}
	}
	return SIPMessage{}, false
}
