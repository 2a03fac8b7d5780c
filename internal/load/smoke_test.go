package load

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// smokeCalls, at smokeRate calls/s with a smokePrompt prompt, is the smoke
// run: a few seconds of real load through every part of the harness.
const (
	smokeCalls  = 5
	smokeRate   = 2
	smokePrompt = time.Second
)

// TestSmoke starts the server, the app, the capture and SIPp, places a few
// calls and checks what each part saw: every call completed, was hung up
// by the server after its prompt, and the prompt reached the caller as
// sound.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke run of the load harness: not with -short")
	}
	sipp := testpeer.Binary(t, "TEST_SIPP", "sipp", "apt-get install sip-tester")
	bin := smokeServerBinary(t)
	var logs testpeer.SyncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("harness log:\n%s", logs.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard, not an assertion
	defer cancel()

	opts := DefaultOptions()
	opts.ServerBin, opts.SIPpBin, opts.WorkDir = bin, sipp, t.TempDir()
	opts.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p, err := h.startPhase(ctx, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	res, d, err := h.runOnce(ctx, p, runSpec{Name: "smoke", Kind: KindSmoke, Rate: smokeRate, Limit: smokeCalls,
		Calls: smokeCalls, Prompt: smokePrompt, Trace: true})
	if err != nil {
		t.Fatalf("run: %v\nserver log:\n%s", err, p.srv.LogTail(4000))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s\nsipp errors:\n%s", p.srv.LogTail(4000), tailFile(filepath.Join(d.sipp.Dir, "errors.log"), 4000))
		}
	})

	t.Logf("smoke: %v", tableRow(res))

	// SIPp: every call placed succeeded.
	if s := d.sipp; s.ExitCode != 0 || s.Created != smokeCalls || s.Successful != smokeCalls || s.Failed != 0 {
		t.Errorf("sipp: exit %d, created %d, successful %d, failed %d (%v); want %d successful", s.ExitCode, s.Created,
			s.Successful, s.Failed, s.FailedBy, smokeCalls)
	}
	// SIPp received a BYE in each call (its message trace).
	msgs := testpeer.ParseSIPpMessageLog(readFile(t, filepath.Join(d.sipp.Dir, "messages.log")))
	byes := map[string]bool{}
	for _, m := range msgs {
		if m.Received && m.Method == "BYE" {
			byes[m.Header("Call-ID")] = true
		}
	}
	if len(byes) != smokeCalls {
		t.Errorf("SIPp received BYE in %d calls, want %d", len(byes), smokeCalls)
	}

	// The app: each call answered, played, completed its play and hung up.
	a := d.app
	if a.IncomingCalls != smokeCalls || a.Answered != smokeCalls || a.Connected != smokeCalls || a.PlayStarted != smokeCalls ||
		a.PlayCompleted != smokeCalls || a.PlayFailed != 0 || a.HungUp != smokeCalls || len(a.Errors) != 0 {
		t.Errorf("app: %+v", *a)
	}
	if len(a.Calls) != smokeCalls {
		t.Errorf("app saw %d call connections, want %d", len(a.Calls), smokeCalls)
	}
	for id, c := range a.Calls {
		if c.Connected != 1 || c.PlayCompleted != 1 || !c.HungUp {
			t.Errorf("call %s: %+v; want connected, one PlayCompleted, hung up", id, *c)
		}
	}
	if res.Webhook.N < 3*smokeCalls || res.AnswerRTT.N != smokeCalls {
		t.Errorf("latency samples: webhook %d, answer %d", res.Webhook.N, res.AnswerRTT.N)
	}

	// The server is idle again.
	if d.leftActive != 0 || d.settleMS < 0 {
		t.Errorf("server not idle after the run: %d active calls left", d.leftActive)
	}

	// The capture: each call's BYE came from the server after its prompt,
	// and the prompt was sound, not silence.
	if h.capture == nil {
		t.Logf("no packet capture (%v): wire-level checks skipped", h.CaptureError())
		return
	}
	tr := d.trace
	if len(tr.Calls) != smokeCalls || res.Completed != smokeCalls || res.Failures.Total != 0 {
		t.Errorf("capture: %d calls, %d completed, failures %+v", len(tr.Calls), res.Completed, res.Failures)
	}
	promptFrames := uint32(smokePrompt / (20 * time.Millisecond))
	for _, c := range tr.Calls {
		switch {
		case c.OK == 0 || c.Ack == 0:
			t.Errorf("call %s: no 200 or ACK captured: %+v", c.CallID, c)
		case c.ServerBye == 0 || c.CallerBye != 0:
			t.Errorf("call %s: the BYE did not come from the server: %+v", c.CallID, c)
		case c.stream == nil:
			t.Errorf("call %s: no RTP captured from the server's port %d", c.CallID, c.ServerRTPPort)
		case c.stream.Voiced < promptFrames*9/10:
			t.Errorf("call %s: %d prompt packets with sound, want about %d", c.CallID, c.stream.Voiced, promptFrames)
		case c.stream.LastVoiced >= c.ServerBye || c.stream.FirstVoiced <= c.Ack:
			t.Errorf("call %s: prompt not between ACK and BYE", c.CallID)
		}
	}
	if res.RTP.Streams != smokeCalls || res.InviteTo200.N != smokeCalls || res.Overrun.N != smokeCalls {
		t.Errorf("result: %d RTP streams, %d INVITE→200, %d overruns; want %d each", res.RTP.Streams, res.InviteTo200.N,
			res.Overrun.N, smokeCalls)
	}
	if tr.Drops != 0 {
		t.Logf("the capture dropped %d packets", tr.Drops)
	}
}

// smokeServerBinary builds cmd/switchboard, or uses SBLOAD_SERVER.
func smokeServerBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SBLOAD_SERVER"); p != "" {
		return p
	}
	root, err := testpeer.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/switchboard")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
