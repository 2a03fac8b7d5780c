package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testKey = "c3VwZXItc2VjcmV0LXRlc3Qta2V5LTAxMjM0NTY3ODk="

// The sample file documents every setting with its default value.
func TestSampleMatchesDefaults(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config.sample.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var got Config // decode into zero, so every default must be spelled out
	if err := Decode(b, &got); err != nil {
		t.Fatal(err)
	}
	want := Default()
	normalize := func(c *Config) {
		// Empty lists in YAML decode to empty slices; defaults are nil.
		for _, p := range []*[]string{&c.Auth.AccessKeys, &c.Numbers, &c.HTTP.TLS.Hostnames} {
			if len(*p) == 0 {
				*p = nil
			}
		}
		if len(c.Trunks) == 0 {
			c.Trunks = nil
		}
		if len(c.Events.Subscriptions) == 0 {
			c.Events.Subscriptions = nil
		}
	}
	normalize(&got)
	normalize(&want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("config.sample.yaml and Default() differ:\nsample:  %+v\ndefault: %+v", got, want)
	}
}

func TestUnknownKeyRejected(t *testing.T) {
	cfg := Default()
	err := Decode([]byte("http:\n  listn: 1.2.3.4:5\n"), &cfg)
	if err == nil || !strings.Contains(err.Error(), "listn") {
		t.Fatalf("want unknown-field error, got %v", err)
	}
}

func TestEnvOverrides(t *testing.T) {
	cfg := Default()
	err := ApplyEnv(&cfg, []string{
		"SWITCHBOARD_HTTP_LISTEN=0.0.0.0:9443",
		"SWITCHBOARD_AUTH_ACCESSKEYS=" + testKey + ", " + testKey,
		"SWITCHBOARD_MEDIA_PORTMIN=30000",
		"SWITCHBOARD_CALLS_RINGTIMEOUT=5s",
		"HOME=/root",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != "0.0.0.0:9443" || len(cfg.Auth.AccessKeys) != 2 || cfg.Media.PortMin != 30000 || cfg.Calls.RingTimeout != 5*time.Second {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
	if err := ApplyEnv(&cfg, []string{"SWITCHBOARD_HTTP_LISTN=x"}); err == nil {
		t.Fatal("misspelt variable accepted")
	}
	if err := ApplyEnv(&cfg, []string{"SWITCHBOARD_MEDIA_PORTMIN=abc"}); err == nil {
		t.Fatal("bad int accepted")
	}
}

func TestValidateReportsEverything(t *testing.T) {
	cfg := Default()
	cfg.Log.Level = "loud"
	cfg.Media.PortMin = 5
	cfg.Numbers = []string{"555-1234"}
	cfg.Trunks = []Trunk{{Name: "t", Address: "nowhere", Transport: "carrier-pigeon"}}
	cfg.Speech.SphinxDecoys = -5
	cfg.Media.Workers = -1
	cfg.Speech.SphinxWarm = cfg.Speech.STTMaxConcurrent + 1
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"log.level", "media: port range", "numbers[0]", "trunks[0].address", "trunks[0].transport", "auth.accessKeys", "speech.sphinxDecoys", "media.workers", "speech.sphinxWarm"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	cfg = Default()
	cfg.Auth.AccessKeys = []string{testKey}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config with a key: %v", err)
	}
}
