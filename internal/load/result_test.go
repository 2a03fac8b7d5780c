package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/config"
)

func step(rate, attempted, failures int, p99 float64) Result {
	return Result{Rate: rate, Attempted: attempted, Completed: attempted - failures, AttemptedPerSec: float64(rate),
		Failures: Failures{Total: failures}, InviteTo200: Dist{N: attempted, P99: p99}}
}

func TestKnee(t *testing.T) {
	bound := 250 * time.Millisecond
	steps := []Result{step(100, 500, 0, 5), step(50, 250, 0, 3), step(200, 1000, 0, 20), step(300, 1500, 2, 30), step(400, 2000, 0, 40)}
	if k, ok := kneeOf(steps, bound); !ok || k != 200 {
		t.Errorf("knee = %d, %v; want 200 (the 400 step after a failing one does not count)", k, ok)
	}
	slow := []Result{step(50, 250, 0, 3), step(100, 500, 0, 300)}
	if k, ok := kneeOf(slow, bound); !ok || k != 50 {
		t.Errorf("knee = %d, %v; want 50 (p99 over the bound)", k, ok)
	}
	short := step(50, 250, 0, 3)
	short.AttemptedPerSec = 40 // the generator did not keep up
	if _, ok := kneeOf([]Result{short}, bound); ok {
		t.Error("a step below 90% of its target rate passed")
	}
	crashed := step(50, 120, 0, 3)
	crashed.Calls = 400 // SIPp died after 120 of 400 calls
	if _, ok := kneeOf([]Result{crashed}, bound); ok {
		t.Error("a step whose generator stopped early passed")
	}
	if _, ok := kneeOf(nil, bound); ok {
		t.Error("no steps, but a knee")
	}
}

func TestServerConfigIsValid(t *testing.T) {
	dir := t.TempDir()
	yaml := renderServerConfig(serverConfig{Dir: dir, EventGridURL: "http://127.0.0.1:1234/eventgrid", MaxConcurrent: 7,
		MediaMin: mediaMin, MediaMax: mediaMax, LogLevel: "warn"}, 8080, 5080)
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() { // the file alone, as the server gets it
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SWITCHBOARD_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("SWITCHBOARD_AUTH_ACCESSKEYS", "c3VwZXItc2VjcmV0LXRlc3Qta2V5LTAxMjM0NTY3ODk=")
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("generated config is invalid: %v\n%s", err, yaml)
	}
	if cfg.HTTP.TLS.Mode != "off" || cfg.HTTP.Listen != "127.0.0.1:8080" || cfg.SIP.ListenUDP != "127.0.0.1:5080" ||
		cfg.SIP.ListenTCP != "" || cfg.Calls.MaxConcurrent != 7 || len(cfg.Trunks) != 1 || cfg.Numbers[0] != ownedNumber ||
		len(cfg.Events.Subscriptions) != 1 || cfg.Events.Subscriptions[0].Endpoint != "http://127.0.0.1:1234/eventgrid" ||
		cfg.Media.PortMin != mediaMin || cfg.Media.PortMax != mediaMax || cfg.Log.Level != "warn" {
		t.Errorf("config = %+v", cfg)
	}
}
