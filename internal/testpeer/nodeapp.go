//go:build unix

package testpeer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// NodeAppOptions configures the Node customer app (test/node/app.mjs).
type NodeAppOptions struct {
	// Endpoint is the ACS endpoint the SDK talks to, e.g.
	// "https://127.0.0.1:8443/". http:// endpoints are used with the SDK's
	// allowInsecureConnection option.
	Endpoint string
	// AccessKey is the base64 access key of the connection string.
	AccessKey string
	// CAFile is a PEM file the app trusts for HTTPS (NODE_EXTRA_CA_CERTS).
	CAFile string
	// JWKSURL is where callback JWTs' keys are fetched; empty: callbacks are
	// recorded with jwtValid=false.
	JWKSURL string
	// JWTIssuer / JWTAudience, when set, must match the tokens' iss / aud.
	JWTIssuer, JWTAudience string
	// EventsFile is the JSON-lines record of deliveries; default: a file in a
	// temporary directory. It survives Restart.
	EventsFile string
	// Port to listen on (127.0.0.1); 0 picks one. Restart keeps it.
	Port int
	// Env entries ("K=V") are added to the app's environment.
	Env []string
}

// NodeApp is the running customer app.
type NodeApp struct {
	t      testing.TB
	opts   NodeAppOptions
	node   string
	script string
	port   int
	output *lockedBuffer
	client *http.Client

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// OpResult is the answer of POST /control/op.
type OpResult struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *OpError        `json:"error"`
}

// OpError is an SDK error (a RestError's fields when it was one).
type OpError struct {
	Name         string          `json:"name"`
	Message      string          `json:"message"`
	StatusCode   int             `json:"statusCode"`
	Code         string          `json:"code"`
	Details      json.RawMessage `json:"details"`
	ResponseBody string          `json:"responseBody"`
}

func (e *OpError) Error() string {
	return fmt.Sprintf("%s: status %d code %q: %s", e.Name, e.StatusCode, e.Code, e.Message)
}

// Decode unmarshals Result into v.
func (r OpResult) Decode(v any) error { return json.Unmarshal(r.Result, v) }

// Event is one recorded webhook delivery (one CloudEvent or Event Grid event;
// a POST carrying several has BatchSize > 1).
type Event struct {
	Seq        int            `json:"seq"`
	ReceivedAt string         `json:"receivedAt"`
	Path       string         `json:"path"`
	Method     string         `json:"method"`
	Source     string         `json:"source"` // "callback" or "eventgrid"
	Headers    map[string]any `json:"headers"`
	// Raw is the event as delivered.
	Raw json.RawMessage `json:"raw"`
	// EventType is the CloudEvent type / Event Grid eventType.
	EventType string `json:"eventType"`
	// ParsedKind is the SDK's parseCallAutomationEvent kind (callbacks),
	// the eventType without "Microsoft.Communication." (Event Grid), or
	// "SubscriptionValidation".
	ParsedKind string `json:"parsedKind"`
	// Parsed is the SDK-parsed event (callbacks) or the data (Event Grid).
	Parsed         json.RawMessage `json:"parsed"`
	ParseError     string          `json:"parseError"`
	BodyError      string          `json:"bodyError"`
	JWTValid       bool            `json:"jwtValid"`
	JWTError       string          `json:"jwtError"`
	JWTClaims      map[string]any  `json:"jwtClaims"`
	JWTHeader      map[string]any  `json:"jwtHeader"`
	Hung           bool            `json:"hung"`
	BatchSize      int             `json:"batchSize"`
	BatchIndex     int             `json:"batchIndex"`
	IsArray        bool            `json:"isArray"`
	ValidationCode string          `json:"validationCode"`
}

// Header returns a recorded request header (lower-case name) as a string.
func (e Event) Header(name string) string {
	v, ok := e.Headers[strings.ToLower(name)]
	if !ok {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Data returns the event's data object (CloudEvent / Event Grid "data").
func (e Event) Data() map[string]any {
	var env struct {
		Data map[string]any `json:"data"`
	}
	_ = json.Unmarshal(e.Raw, &env)
	return env.Data
}

// DataString returns data[key] when it is a string.
func (e Event) DataString(key string) string {
	s, _ := e.Data()[key].(string)
	return s
}

// CallConnectionID is data.callConnectionId.
func (e Event) CallConnectionID() string { return e.DataString("callConnectionId") }

// OperationContext is data.operationContext.
func (e Event) OperationContext() string { return e.DataString("operationContext") }

// StartNodeApp starts `node test/node/app.mjs` and waits for its READY line.
// When test/node/node_modules is missing it runs `npm ci` there first (once,
// under a file lock). The app is stopped at test cleanup; its output is
// logged when the test failed.
func StartNodeApp(t testing.TB, opts NodeAppOptions) *NodeApp {
	t.Helper()
	node := findBinary(t, "TEST_NODE", "node", "apt-get install nodejs, node >= 20")
	root := mustRepoRoot(t)
	dir := filepath.Join(root, "test", "node")
	ensureNodeModules(t, dir)
	if opts.Endpoint == "" || opts.AccessKey == "" {
		t.Fatal("testpeer: NodeAppOptions.Endpoint and AccessKey are required")
	}
	if opts.EventsFile == "" {
		opts.EventsFile = filepath.Join(t.TempDir(), "app-events.jsonl")
	}
	a := &NodeApp{
		t: t, opts: opts, node: node, script: filepath.Join(dir, "app.mjs"),
		output: &lockedBuffer{},
		client: &http.Client{Timeout: 2 * time.Minute},
	}
	a.start(opts.Port)
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			t.Logf("testpeer: node app output:\n%s", tail(a.output.String(), 8000))
		}
	})
	return a
}

var readyLine = regexp.MustCompile(`^READY (\d+)$`)

func (a *NodeApp) start(port int) {
	t := a.t
	t.Helper()
	args := []string{a.script,
		"--port", strconv.Itoa(port),
		"--endpoint", a.opts.Endpoint,
		"--key", a.opts.AccessKey,
		"--events-file", a.opts.EventsFile,
	}
	if a.opts.JWKSURL != "" {
		args = append(args, "--jwks-url", a.opts.JWKSURL)
	}
	if a.opts.JWTIssuer != "" {
		args = append(args, "--jwt-issuer", a.opts.JWTIssuer)
	}
	if a.opts.JWTAudience != "" {
		args = append(args, "--jwt-audience", a.opts.JWTAudience)
	}
	cmd := exec.Command(a.node, args...)
	cmd.Dir = filepath.Dir(a.script)
	cmd.Env = append(os.Environ(), a.opts.Env...)
	if a.opts.CAFile != "" {
		cmd.Env = append(cmd.Env, "NODE_EXTRA_CA_CERTS="+a.opts.CAFile)
	}
	cmd.Stderr = a.output
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testpeer: start node app: %v", err)
	}
	done := make(chan struct{})
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if m := readyLine.FindStringSubmatch(line); m != nil && !sent {
				p, _ := strconv.Atoi(m[1])
				ready <- p
				sent = true
				continue
			}
			a.output.Write([]byte("stdout: " + line + "\n"))
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(done)
	}()
	a.mu.Lock()
	a.cmd, a.done = cmd, done
	a.mu.Unlock()
	select {
	case p := <-ready:
		a.port = p
	case <-done:
		t.Fatalf("testpeer: node app exited before READY:\n%s", tail(a.output.String(), 4000))
	case <-time.After(30 * time.Second):
		a.kill(syscall.SIGKILL)
		t.Fatalf("testpeer: node app not READY in 30s:\n%s", tail(a.output.String(), 4000))
	}
	t.Logf("testpeer: node app on %s (endpoint %s, events %s)", a.BaseURL(), a.opts.Endpoint, a.opts.EventsFile)
}

// ensureNodeModules runs `npm ci` in test/node when its node_modules lacks
// the SDK, serialised across test processes with a lock file.
func ensureNodeModules(t testing.TB, dir string) {
	t.Helper()
	marker := filepath.Join(dir, "node_modules", "@azure", "communication-call-automation", "package.json")
	if _, err := os.Stat(marker); err == nil {
		return
	}
	npm := findBinary(t, "TEST_NPM", "npm", "it comes with node")
	lock, err := os.OpenFile(filepath.Join(dir, ".npm-ci.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("testpeer: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("testpeer: lock: %v", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(marker); err == nil {
		return // another process installed meanwhile
	}
	t.Logf("testpeer: running npm ci in %s", dir)
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("testpeer: npm ci in %s failed (run `npm ci` there, or `make deps`): %v\n%s", dir, err, tail(string(out), 4000))
	}
}

// BaseURL is the app's http://127.0.0.1:<port>.
func (a *NodeApp) BaseURL() string { return "http://127.0.0.1:" + strconv.Itoa(a.port) }

// Port is the app's port.
func (a *NodeApp) Port() int { return a.port }

// CallbackURL is BaseURL + "/callbacks/" + name: a callbackUri that records
// CloudEvent deliveries.
func (a *NodeApp) CallbackURL(name string) string {
	return a.BaseURL() + "/callbacks/" + url.PathEscape(name)
}

// EventGridURL is BaseURL + "/eventgrid": the Event Grid webhook.
func (a *NodeApp) EventGridURL() string { return a.BaseURL() + "/eventgrid" }

// EventsFile is the JSON-lines record file.
func (a *NodeApp) EventsFile() string { return a.opts.EventsFile }

func (a *NodeApp) post(ctx context.Context, path string, body any, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.BaseURL()+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return a.do(req, out)
}

func (a *NodeApp) do(req *http.Request, out any) error {
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("testpeer: node app %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("testpeer: node app %s %s: HTTP %d: %s", req.Method, req.URL.Path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("testpeer: node app %s: %w: %s", req.URL.Path, err, data)
		}
	}
	return nil
}

// Op runs an SDK operation in the app (see test/node/README.md for the ops
// and their args). An SDK failure is not an error: it comes back as
// OpResult{OK: false, Error: ...}; err is for failures to reach the app.
func (a *NodeApp) Op(ctx context.Context, name string, args any) (OpResult, error) {
	var r OpResult
	err := a.post(ctx, "/control/op", map[string]any{"op": name, "args": args}, &r)
	return r, err
}

// MustOp runs Op and fails the test unless the SDK call succeeded; it
// returns the result.
func (a *NodeApp) MustOp(ctx context.Context, name string, args any) json.RawMessage {
	a.t.Helper()
	r, err := a.Op(ctx, name, args)
	if err != nil {
		a.t.Fatal(err)
	}
	if !r.OK {
		a.t.Fatalf("testpeer: op %s failed: %v", name, r.Error)
	}
	return r.Result
}

// Events returns the recorded deliveries with seq > since.
func (a *NodeApp) Events(ctx context.Context, since int) ([]Event, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.BaseURL()+"/control/events?since="+strconv.Itoa(since), nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Events []Event `json:"events"`
	}
	err = a.do(req, &out)
	return out.Events, err
}

// LastSeq is the seq of the newest recorded delivery (0 when none).
func (a *NodeApp) LastSeq(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.BaseURL()+"/control/health", nil)
	if err != nil {
		return 0, err
	}
	var out struct {
		LastSeq int `json:"lastSeq"`
	}
	err = a.do(req, &out)
	return out.LastSeq, err
}

// WaitEvent polls until a recorded delivery matches pred (searching all
// deliveries, oldest first) and returns it.
func (a *NodeApp) WaitEvent(ctx context.Context, pred func(Event) bool) (Event, error) {
	return a.WaitEventAfter(ctx, 0, pred)
}

// WaitEventAfter is WaitEvent among deliveries with seq > since.
func (a *NodeApp) WaitEventAfter(ctx context.Context, since int, pred func(Event) bool) (Event, error) {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var seen []string
	for {
		evs, err := a.Events(ctx, since)
		if err == nil {
			seen = seen[:0]
			for _, ev := range evs {
				if pred(ev) {
					return ev, nil
				}
				seen = append(seen, fmt.Sprintf("#%d %s %s", ev.Seq, ev.Path, ev.ParsedKind))
			}
		}
		select {
		case <-ctx.Done():
			return Event{}, fmt.Errorf("testpeer: node app: no matching event: %w (last error %v; deliveries: %s)", ctx.Err(), err, strings.Join(seen, ", "))
		case <-tick.C:
		}
	}
}

// WaitKind waits for a delivery with seq > since whose ParsedKind is kind
// (e.g. "CallConnected", "IncomingCall", "SubscriptionValidation").
func (a *NodeApp) WaitKind(ctx context.Context, since int, kind string) (Event, error) {
	return a.WaitEventAfter(ctx, since, func(e Event) bool { return e.ParsedKind == kind })
}

// SetMode sets how webhooks under prefix ("/callbacks", "/eventgrid", or a
// longer prefix such as "/callbacks/call1") are answered: "ok", "fail503"
// (or any "failNNN": answered NNN, not recorded), "hang" (recorded with
// hung=true, never answered) or "delay:<ms>".
func (a *NodeApp) SetMode(prefix, mode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.post(ctx, "/control/mode", map[string]string{"prefix": prefix, "mode": mode}, nil)
}

// Stats returns /control/stats: counts of failed/hung/delivered webhooks per
// prefix and the current modes.
func (a *NodeApp) Stats(ctx context.Context) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.BaseURL()+"/control/stats", nil)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = a.do(req, &out)
	return out, err
}

func (a *NodeApp) kill(sig syscall.Signal) {
	a.mu.Lock()
	cmd, done := a.cmd, a.done
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Restart kills the app (SIGKILL: like a crash; hung webhooks are cut) and
// starts it again on the same port with the same events file; the recorded
// deliveries are reloaded and seq continues. Webhook modes reset to "ok".
func (a *NodeApp) Restart() {
	a.t.Helper()
	a.kill(syscall.SIGKILL)
	a.start(a.port)
}

// Stop ends the app (POST /control/quit, then signals).
func (a *NodeApp) Stop() {
	a.mu.Lock()
	done := a.done
	a.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = a.post(ctx, "/control/quit", map[string]any{}, nil)
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		a.kill(syscall.SIGTERM)
	}
}
