package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/auth"
	"github.com/switchboard-oss/switchboard/internal/certs"
)

// accessKey is the test deployment's access key.
const accessKey = "c3VwZXItc2VjcmV0LXRlc3Qta2V5LTAxMjM0NTY3ODk="

// ownedNumber is the number the test server owns.
const ownedNumber = "+14255550100"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/switchboard once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if b := os.Getenv("E2E_BINARY"); b != "" { // a prebuilt server
			binPath = b
			return
		}
		dir, err := os.MkdirTemp("", "switchboard-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "switchboard")
		cmd := exec.Command("go", "build", "-race", "-tags", serverTags, "-o", binPath, "./cmd/switchboard")
		cmd.Dir = repoRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func repoRoot(t *testing.T) string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// serverOptions shape the test server's configuration.
type serverOptions struct {
	TrunkAddr   string // where outbound phone calls go (a SIPp UAS), host:port
	TrunkSource string // the IP trunk calls come from
	RingTimeout time.Duration
	DialTimeout time.Duration
	TLSOff      bool
	Extra       string // extra YAML appended
	DataDir     string // reuse a data directory (restart tests)
	HTTPListen  string // fixed listen address (restart tests)
	Inactivity  time.Duration
	MaxCalls    int
	SetupRate   float64 // calls.maxSetupRate
	SIPTLS      bool    // listen for SIP over TLS with a certificate from the local CA
}

// sbServer is a running switchboard process.
type sbServer struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	cfgPath string
	APIURL  string
	SIPPort int
	TLSPort int
	CAFile  string
	logMu   sync.Mutex
	logBuf  bytes.Buffer
	exited  chan struct{}
	client  *http.Client
}

func startServer(t *testing.T, o serverOptions) *sbServer {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.RingTimeout == 0 {
		o.RingTimeout = 20 * time.Second
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 20 * time.Second
	}
	if o.TrunkSource == "" {
		o.TrunkSource = "127.0.0.2"
	}
	if o.TrunkAddr == "" {
		o.TrunkAddr = "127.0.0.2:9" // nothing listens: outbound calls fail fast
	}
	if o.Inactivity == 0 {
		o.Inactivity = 30 * time.Second
	}
	if o.HTTPListen == "" {
		o.HTTPListen = "127.0.0.1:0"
	}
	tlsMode := "auto"
	sipTLS := ""
	if o.SIPTLS {
		res, err := certs.EnsureLocal(filepath.Join(o.DataDir, "tls"), nil, nil, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		sipTLS = fmt.Sprintf("  listenTLS: 127.0.0.1:0\n  tlsCertFile: %s\n  tlsKeyFile: %s\n", res.CertFile, res.KeyFile)
	}
	if o.TLSOff {
		tlsMode = "off"
	}
	// A media port range of its own, so parallel test processes do not collide.
	portMin := 20000 + 2*rand.IntN(15000)
	cfg := fmt.Sprintf(`dataDir: %s
resourceId: e2eres
log: {level: debug, format: json}
http:
  listen: %s
  tls: {mode: %s}
auth:
  accessKeys: [%q]
sip:
  listenUDP: 127.0.0.1:0
  listenTCP: 127.0.0.1:0
  advertiseHost: 127.0.0.1
%smedia:
  bindIP: 127.0.0.1
  advertiseIP: 127.0.0.1
  portMin: %d
  portMax: %d
  inactivityTimeout: %s
events:
  responseTimeout: 2s
calls:
  ringTimeout: %s
  dialTimeout: %s
  shutdownGrace: 2s
  maxConcurrent: %d
  maxSetupRate: %g
numbers: [%q]
trunks:
  - name: test-trunk
    address: %s
    transport: udp
    allowedSources: [%q]
%s`, o.DataDir, o.HTTPListen, tlsMode, accessKey, sipTLS, portMin, portMin+400, o.Inactivity, o.RingTimeout, o.DialTimeout, o.MaxCalls, o.SetupRate, ownedNumber, o.TrunkAddr, o.TrunkSource, o.Extra)
	s := &sbServer{t: t, dataDir: o.DataDir, cfgPath: filepath.Join(o.DataDir, "config.yaml"), exited: make(chan struct{})}
	if err := os.WriteFile(s.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *sbServer) start() {
	t := s.t
	s.exited = make(chan struct{})
	s.cmd = exec.Command(binary(t), "serve", "-config", s.cfgPath)
	// The test's configuration is the file alone: SWITCHBOARD_* variables of
	// the developer's shell would override it.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			s.cmd.Env = append(s.cmd.Env, kv)
		}
	}
	stderr, _ := s.cmd.StderrPipe()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan map[string]any, 1)
	go func() {
		defer close(s.exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			s.logMu.Lock()
			s.logBuf.Write(line)
			s.logBuf.WriteByte('\n')
			s.logMu.Unlock()
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["msg"] == "switchboard is running" {
				ready <- m
			}
		}
		s.cmd.Wait()
	}()
	select {
	case m := <-ready:
		s.APIURL = m["api"].(string)
		s.SIPPort = int(m["sip_udp"].(float64))
		s.TLSPort = int(m["sip_tls"].(float64))
	case <-s.exited:
		t.Fatalf("switchboard exited at start:\n%s", s.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("switchboard did not start:\n%s", s.logs())
	}
	s.CAFile = filepath.Join(s.dataDir, "tls", "ca.pem")
	tr := &http.Transport{}
	if strings.HasPrefix(s.APIURL, "https") {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	s.client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// stop ends the process (SIGTERM, then SIGKILL) and prints its log if the test failed.
func (s *sbServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	// The binary is built with -race: a data race in the server fails the test.
	if strings.Contains(s.logs(), "WARNING: DATA RACE") {
		s.t.Errorf("the server reported a data race")
	}
	if s.t.Failed() {
		s.t.Logf("switchboard log:\n%s", s.logs())
	}
	s.cmd = nil
}

// restart stops and starts the server on the same data directory and config.
func (s *sbServer) restart() {
	s.stop()
	s.start()
}

func (s *sbServer) logs() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.logBuf.String()
}

// sipAddr is the server's SIP address for peers.
func (s *sbServer) sipAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.SIPPort) }

// do sends a signed request to the API and returns status and body.
func (s *sbServer) do(method, pathAndQuery string, body []byte, hdr map[string]string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.APIURL+pathAndQuery, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range auth.Sign(method, pathAndQuery, req.URL.Host, body, accessKey, time.Now()) {
		req.Header[k] = v
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// adminJSON calls the admin API and decodes the response into out.
func (s *sbServer) adminJSON(method, path string, in, out any, wantStatus int) {
	s.t.Helper()
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	status, b := s.do(method, path, body, nil)
	if status != wantStatus {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// freeUDPPort returns a UDP port free on ip at the time of the call.
func freeUDPPort(t *testing.T, ip string) int {
	t.Helper()
	c, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// serverStatus is GET /admin/v1/status.
type serverStatus struct {
	ActiveCalls   int `json:"activeCalls"`
	MediaLegs     int `json:"mediaLegs"`
	MediaMixers   int `json:"mediaMixers"`
	Goroutines    int `json:"goroutines"`
	PendingEvents int `json:"pendingEvents"`
}

func (s *sbServer) status() serverStatus {
	s.t.Helper()
	var st serverStatus
	s.adminJSON("GET", "/admin/v1/status", nil, &st, 200)
	return st
}

// waitIdle waits until no call, media leg or mixer is left, and the number of
// goroutines is back within slack of baseline (0: not checked).
func (s *sbServer) waitIdle(baseline, slack int) {
	s.t.Helper()
	var st serverStatus
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		st = s.status()
		if st.ActiveCalls == 0 && st.MediaLegs == 0 && st.MediaMixers == 0 && (baseline == 0 || st.Goroutines <= baseline+slack) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.t.Fatalf("server did not return to idle: %+v (goroutine baseline %d)", st, baseline)
}
