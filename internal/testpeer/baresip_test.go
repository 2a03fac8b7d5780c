//go:build unix

package testpeer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func baresipCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// baresip dials a SIPp callee directly; SIPp answers, streams a tone and
// hangs up. baresip must hear the tone.
func TestBaresipDialsSIPp(t *testing.T) {
	t.Parallel()
	ctx := baresipCtx(t)
	uas := RunSIPp(t, SIPpOptions{Scenario: "uas_answer.xml", Vars: map[string]string{"hangup_after_ms": "1500"}, Timeout: 20 * time.Second})
	rec := filepath.Join(t.TempDir(), "heard.wav")
	bs := StartBaresip(t, BaresipOptions{SIPUser: "alice", DisplayName: "Alice", RecordFile: rec})

	if err := bs.Dial(ctx, uas.URI("+15551230000")); err != nil {
		t.Fatal(err)
	}
	est, err := bs.WaitEvent(ctx, "CALL_ESTABLISHED")
	if err != nil {
		t.Fatal(err)
	}
	if est.Direction != "outgoing" || !strings.Contains(est.PeerURI, "+15551230000@") {
		t.Errorf("CALL_ESTABLISHED %+v", est)
	}
	closed, err := bs.WaitEvent(ctx, "CALL_CLOSED")
	if err != nil {
		t.Fatal(err)
	}
	if closed.ID != est.ID {
		t.Errorf("closed call %q, established %q", closed.ID, est.ID)
	}
	uas.WaitSuccess(ctx)
	if got, _ := uas.LogValue("FROM_USER"); got != "alice" {
		t.Errorf("SIPp saw FROM_USER %q", got)
	}
	if got, _ := uas.LogValue("FROM_NAME"); got != "Alice" {
		t.Errorf("SIPp saw FROM_NAME %q", got)
	}
	if got, _ := uas.LogValue("OFFER_PTS"); !strings.Contains(got, " 0") {
		t.Errorf("baresip offer %q lacks PCMU", got)
	}

	bs.Stop() // writes RecordFile
	w, err := ReadWAV(rec)
	if err != nil {
		t.Fatal(err)
	}
	// SIPp's 440 Hz tone has an RMS near 5600; silence is ~0
	if w.Duration() < 0.3 || w.RMS() < 1000 {
		t.Errorf("baresip heard %.2fs of audio with RMS %.0f; want SIPp's tone", w.Duration(), w.RMS())
	}
}

// SIPp calls baresip straight at its listen address; baresip auto-answers
// without any registration; SIPp hangs up.
func TestSIPpCallsBaresipAutoAnswer(t *testing.T) {
	t.Parallel()
	ctx := baresipCtx(t)
	bs := StartBaresip(t, BaresipOptions{SIPUser: "bob", AutoAnswer: true})
	uac := RunSIPp(t, SIPpOptions{
		Scenario: "uac_call_bye.xml", Remote: bs.SIPAddr(), Service: "bob",
		Vars:    map[string]string{"caller": "+15557770000", "hangup_after_ms": "1000"},
		Timeout: 20 * time.Second,
	})
	// baresip 1.0.0 emits no CALL_INCOMING for auto-answered calls
	est, err := bs.WaitEvent(ctx, "CALL_ESTABLISHED")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(est.PeerURI, "+15557770000@") || est.Direction != "incoming" {
		t.Errorf("CALL_ESTABLISHED %+v", est)
	}
	if _, err := bs.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	uac.WaitSuccess(ctx)
	if got, _ := uac.LogValue("ANSWER_PT"); got != "0" {
		t.Errorf("baresip answered with payload type %q, want 0 (PCMU)", got)
	}
}

// Manual answer over ctrl_tcp; baresip hangs up.
func TestSIPpCallsBaresipManualAnswer(t *testing.T) {
	t.Parallel()
	ctx := baresipCtx(t)
	bs := StartBaresip(t, BaresipOptions{SIPUser: "carol"})
	uac := RunSIPp(t, SIPpOptions{Scenario: "uac_call.xml", Remote: bs.SIPAddr(), Service: "carol", Timeout: 20 * time.Second})
	if _, err := bs.WaitEvent(ctx, "CALL_INCOMING"); err != nil {
		t.Fatal(err)
	}
	if err := bs.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bs.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	resp, err := bs.Command(ctx, "listcalls", "")
	if err != nil || !strings.Contains(resp.Data, "ESTABLISHED") {
		t.Errorf("listcalls: %q, %v", resp.Data, err)
	}
	if err := bs.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bs.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	uac.WaitSuccess(ctx)
	if got, _ := uac.LogValue("BYE_RECEIVED"); got != "1" {
		t.Errorf("BYE_RECEIVED = %q", got)
	}
	if _, err := bs.Command(ctx, "no-such-command", ""); err == nil {
		t.Error("unknown command: no error")
	}
}

// baresip plays a short WAV file and, as baresip 1.0.0 does at the end of
// an aufile source, hangs up.
func TestBaresipPlayFileHangsUpAtEnd(t *testing.T) {
	t.Parallel()
	ctx := baresipCtx(t)
	play := filepath.Join(t.TempDir(), "play.wav")
	if err := ToneWAV(1000, 1.0).WriteFile(play); err != nil {
		t.Fatal(err)
	}
	uas := RunSIPp(t, SIPpOptions{Scenario: "uas_answer.xml", Timeout: 20 * time.Second})
	bs := StartBaresip(t, BaresipOptions{SIPUser: "dave", PlayFile: play})
	if err := bs.Dial(ctx, uas.URI("400")); err != nil {
		t.Fatal(err)
	}
	if _, err := bs.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	closed, err := bs.WaitEvent(ctx, "CALL_CLOSED")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(closed.Param, "end of file") {
		t.Errorf("CALL_CLOSED param %q", closed.Param)
	}
	uas.WaitSuccess(ctx)
	if got, _ := uas.LogValue("BYE_RECEIVED"); got != "1" {
		t.Errorf("BYE_RECEIVED = %q", got)
	}
	sent := bs.SentAudioFiles()
	if len(sent) != 1 {
		t.Fatalf("sent audio files %v", sent)
	}
	bs.Stop()
	w, err := ReadWAV(sent[0])
	if err != nil || w.RMS() < 1000 {
		t.Errorf("sent audio RMS %.0f, %v", w.RMS(), err)
	}
}

// baresip registers (digest auth) with SIPp acting as registrar.
func TestBaresipRegisters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{{"good", "s3cret", true}, {"badpassword", "wrong", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := baresipCtx(t)
			reg := RunSIPp(t, SIPpOptions{Scenario: "uas_register.xml", Vars: map[string]string{"user": "erin", "password": "s3cret"}, Timeout: 20 * time.Second})
			bs := StartBaresip(t, BaresipOptions{SIPUser: "erin", Password: tc.password, Registrar: reg.Addr()})
			err := bs.WaitRegistered(ctx)
			if tc.ok != (err == nil) {
				t.Fatalf("WaitRegistered: %v", err)
			}
			if got, _ := reg.LogValue("AUTH_USER"); got != "erin" {
				t.Errorf("AUTH_USER = %q", got)
			}
			if got, _ := reg.LogValue("AUTH_OK"); got != map[bool]string{true: "true", false: "false"}[tc.ok] {
				t.Errorf("AUTH_OK = %q", got)
			}
			if tc.ok && bs.AOR() != "sip:erin@"+reg.Addr() {
				t.Errorf("AOR %s", bs.AOR())
			}
			bs.Stop() // de-registers
			reg.WaitSuccess(ctx)
			if got, _ := reg.LogValue("UNREGISTERED"); tc.ok && got != "1" {
				t.Errorf("UNREGISTERED = %q (no de-registration at quit)", got)
			}
		})
	}
}
