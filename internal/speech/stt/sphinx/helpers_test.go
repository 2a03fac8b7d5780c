package sphinx

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/sttest"
	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

var (
	sharedOnce sync.Once
	shared     *Engine
)

// realEngine returns an engine backed by the real library. Without the
// binding (no -tags pocketsphinx) the test is skipped, whatever
// REQUIRE_TEST_PEERS says: the test binary cannot contain it. With the
// binding but no model files it is skipped, or failed with
// REQUIRE_TEST_PEERS=1.
func realEngine(t testing.TB) *Engine {
	t.Helper()
	if !Compiled {
		t.Skip("sphinx: built without -tags pocketsphinx; " + InstallHint)
	}
	if testing.Short() && os.Getenv(testpeer.RequirePeersEnv) != "1" {
		t.Skip("-short: not loading PocketSphinx models")
	}
	sharedOnce.Do(func() {
		shared = New(Options{MaxIdle: 4, Buffer: time.Minute, Streaming: os.Getenv("STT_STREAMING") == "1"}, nil)
	})
	if err := shared.Available(); err != nil {
		if os.Getenv(testpeer.RequirePeersEnv) == "1" {
			t.Fatalf("%v; %s=1 requires it", err, testpeer.RequirePeersEnv)
		}
		t.Skipf("%v; skipping (set %s=1 to fail instead)", err, testpeer.RequirePeersEnv)
	}
	return shared
}

// recognize runs pcm (8 kHz) through a session in 20 ms frames.
func recognize(t testing.TB, e stt.Engine, opts stt.Options, pcm []int16) (stt.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := e.Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer s.Close()
	for _, f := range sttest.Frames(pcm) {
		for {
			err := s.Write(f)
			if !errors.Is(err, stt.ErrOverflow) {
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return s.Finish(ctx)
}

// padded surrounds speech with the pauses of a phone prompt.
func padded(speech []int16) []int16 {
	return sttest.Concat(sttest.Silence(300*time.Millisecond), speech, sttest.Silence(600*time.Millisecond))
}

var choices = []string{"Billing", "Sales", "Support", "Operator", "Yes", "No"}
