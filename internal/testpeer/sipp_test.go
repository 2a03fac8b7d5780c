//go:build unix

package testpeer

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Each caller scenario against its callee counterpart, SIPp to SIPp on
// loopback.

func sippCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSIPpCallCalleeHangsUp(t *testing.T) {
	t.Parallel()
	ctx := sippCtx(t)
	uas := RunSIPp(t, SIPpOptions{Scenario: "uas_answer.xml", Vars: map[string]string{"hangup_after_ms": "700"}, Timeout: 20 * time.Second})
	uac := RunSIPp(t, SIPpOptions{
		Scenario: "uac_call.xml", Remote: uas.Addr(), Service: "+15551234567",
		Vars:    map[string]string{"caller": "+4930111222", "caller_name": "Alice Caller"},
		Timeout: 20 * time.Second,
	})
	uac.WaitSuccess(ctx)
	uas.WaitSuccess(ctx)

	for key, want := range map[string]string{
		"RURI_USER": "+15551234567", "TO_USER": "+15551234567", "FROM_USER": "+4930111222",
		"FROM_NAME": "Alice Caller", "OFFER_PTS": " 0 8 101", "ANSWER_PT": "0", "TE_PT": "101",
		"BYE_SENT": "1",
	} {
		if got, _ := uas.LogValue(key); got != want {
			t.Errorf("uas %s = %q, want %q", key, got, want)
		}
	}
	if got, _ := uac.LogValue("BYE_RECEIVED"); got != "1" {
		t.Errorf("uac BYE_RECEIVED = %q", got)
	}
	if got, _ := uac.LogValue("ANSWER_PT"); got != "0" {
		t.Errorf("uac ANSWER_PT = %q", got)
	}
	inv, ok := uas.FindMessage(true, "INVITE")
	if !ok {
		t.Fatal("uas: no INVITE in the trace")
	}
	if !strings.Contains(inv.Header("From"), "sip:+4930111222@") || !strings.Contains(inv.Body, "a=rtpmap:101 telephone-event/8000") {
		t.Errorf("INVITE From %q / body %q", inv.Header("From"), inv.Body)
	}
	if inv.CSeqMethod() != "INVITE" {
		t.Errorf("CSeq method %q", inv.CSeqMethod())
	}
	ok200, found := uac.FindMessage(true, "200")
	if !found || !strings.Contains(ok200.Body, "m=audio") {
		t.Errorf("uac: 200 OK with SDP not found: %+v", ok200)
	}
}

func TestSIPpCallCallerHangsUp(t *testing.T) {
	t.Parallel()
	ctx := sippCtx(t)
	uas := RunSIPp(t, SIPpOptions{Scenario: "uas_answer.xml", Vars: map[string]string{"ring_ms": "200"}, Timeout: 20 * time.Second})
	uac := RunSIPp(t, SIPpOptions{
		Scenario: "uac_call_bye.xml", Remote: uas.Addr(), Service: "100",
		Vars:    map[string]string{"hangup_after_ms": "700"},
		Timeout: 20 * time.Second,
	})
	if v, err := uas.WaitLog(ctx, "FROM_USER"); err != nil || v != "+15550001111" {
		t.Errorf("uas FROM_USER = %q, %v (want the scenario default caller)", v, err)
	}
	uac.WaitSuccess(ctx)
	uas.WaitSuccess(ctx)
	if got, _ := uas.LogValue("BYE_RECEIVED"); got != "1" {
		t.Errorf("uas BYE_RECEIVED = %q", got)
	}
	if got, _ := uac.LogValue("BYE_STATUS"); got != "200" {
		t.Errorf("uac BYE_STATUS = %q", got)
	}
}

func TestSIPpCancel(t *testing.T) {
	t.Parallel()
	ctx := sippCtx(t)
	uas := RunSIPp(t, SIPpOptions{Scenario: "uas_noanswer.xml", Timeout: 20 * time.Second})
	uac := RunSIPp(t, SIPpOptions{
		Scenario: "uac_cancel.xml", Remote: uas.Addr(), Service: "200",
		Vars:    map[string]string{"cancel_after_ms": "300"},
		Timeout: 20 * time.Second,
	})
	uac.WaitSuccess(ctx)
	uas.WaitSuccess(ctx)
	if got, _ := uac.LogValue("INVITE_FINAL"); got != "487" {
		t.Errorf("uac INVITE_FINAL = %q", got)
	}
	if got, _ := uas.LogValue("CANCEL_RECEIVED"); got != "1" {
		t.Errorf("uas CANCEL_RECEIVED = %q", got)
	}
	cancel, ok := uas.FindMessage(true, "CANCEL")
	if !ok {
		t.Fatal("no CANCEL received")
	}
	inv, _ := uas.FindMessage(true, "INVITE")
	if cancel.Header("Via") != inv.Header("Via") {
		t.Errorf("CANCEL Via %q != INVITE Via %q", cancel.Header("Via"), inv.Header("Via"))
	}
}

func TestSIPpReject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ code, reason string }{
		{"", "Busy Here"}, // default 486
		{"603", "Decline"},
		{"404", "Not Found"},
	} {
		t.Run("code"+tc.code, func(t *testing.T) {
			t.Parallel()
			ctx := sippCtx(t)
			want := tc.code
			if want == "" {
				want = "486"
			}
			vars := map[string]string{}
			if tc.code != "" {
				vars["code"] = tc.code
			}
			uas := RunSIPp(t, SIPpOptions{Scenario: "uas_busy.xml", Vars: vars, Timeout: 20 * time.Second})
			uac := RunSIPp(t, SIPpOptions{
				Scenario: "uac_reject.xml", Remote: uas.Addr(), Service: "300",
				Vars:    map[string]string{"expected": want},
				Timeout: 20 * time.Second,
			})
			uac.WaitSuccess(ctx)
			uas.WaitSuccess(ctx)
			if got, _ := uac.LogValue("FINAL"); got != want {
				t.Errorf("FINAL = %q, want %s", got, want)
			}
			if got, _ := uac.LogValue("FINAL_REASON"); got != tc.reason {
				t.Errorf("FINAL_REASON = %q, want %q", got, tc.reason)
			}
			if got, _ := uas.LogValue("REJECTED"); got != want {
				t.Errorf("REJECTED = %q", got)
			}
		})
	}
}

// uac_reject fails the call (exit 1) when -set expected does not match.
func TestSIPpRejectExpectedMismatch(t *testing.T) {
	t.Parallel()
	ctx := sippCtx(t)
	uas := RunSIPp(t, SIPpOptions{Scenario: "uas_busy.xml", Timeout: 20 * time.Second})
	uac := RunSIPp(t, SIPpOptions{
		Scenario: "uac_reject.xml", Remote: uas.Addr(),
		Vars:    map[string]string{"expected": "404"},
		Timeout: 20 * time.Second,
	})
	code, err := uac.Wait(ctx)
	if err != nil || code != SIPpExitCallFailed {
		t.Fatalf("uac exit %d, %v; want %d", code, err, SIPpExitCallFailed)
	}
	if got, _ := uac.LogValue("EXPECTED_MISMATCH"); got != "404" {
		t.Errorf("EXPECTED_MISMATCH = %q", got)
	}
	if got, _ := uac.LogValue("FINAL"); got != "486" {
		t.Errorf("FINAL = %q", got)
	}
	uas.Wait(ctx)
}

func TestParseSIPpMessageLog(t *testing.T) {
	log := "----------------------------------------------- 2026-11-23 20:23:40.257548\n" +
		"UDP message received [120] bytes :\n\n" +
		"INVITE sip:1@127.0.0.1 SIP/2.0\r\nf: <sip:a@b>;tag=1\r\nVia: SIP/2.0/UDP x\r\nCSeq: 7 INVITE\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nm=audio 4000 RTP/AVP 0\r\n\n" +
		"----------------------------------------------- 2026-11-23 20:23:40.257860\n" +
		"UDP message sent (40 bytes):\n\n" +
		"SIP/2.0 180 Ringing\r\nTo: <sip:1@x>;tag=2\r\nCSeq: 7 INVITE\r\n\r\n\n" +
		"----------------------------------------------- 2026-11-23 20:23:40.3\n" +
		"Unexpected UDP message received:\n\nACK sip:x SIP/2.0\r\n\r\n\n"
	msgs := ParseSIPpMessageLog(log)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages: %+v", len(msgs), msgs)
	}
	if !msgs[0].Received || msgs[0].Method != "INVITE" || msgs[0].Header("From") != "<sip:a@b>;tag=1" || msgs[0].CSeqMethod() != "INVITE" {
		t.Errorf("msg0 = %+v", msgs[0])
	}
	if !strings.Contains(msgs[0].Body, "m=audio 4000") {
		t.Errorf("body %q", msgs[0].Body)
	}
	if msgs[1].Received || msgs[1].Status != 180 || msgs[1].Time != "2026-11-23 20:23:40.257860" {
		t.Errorf("msg1 = %+v", msgs[1])
	}
}

func TestG711RoundTrip(t *testing.T) {
	pcm := Tone(440, 8000, 800, 12000)
	for name, codec := range map[string]struct {
		enc func([]int16) []byte
		dec func([]byte) []int16
	}{"ulaw": {ULawEncode, ULawDecode}, "alaw": {ALawEncode, ALawDecode}} {
		back := codec.dec(codec.enc(pcm))
		for i := range pcm {
			d := int(pcm[i]) - int(back[i])
			if d < 0 {
				d = -d
			}
			lim := 16 + abs(int(pcm[i]))/16 // G.711 error grows with the magnitude
			if d > lim {
				t.Fatalf("%s: sample %d: %d -> %d", name, i, pcm[i], back[i])
			}
		}
	}
	// known code points
	if got := ULawEncode([]int16{0})[0]; got != 0xFF {
		t.Errorf("ulaw(0) = %#x", got)
	}
	if got := ALawEncode([]int16{0})[0]; got != 0xD5 {
		t.Errorf("alaw(0) = %#x", got)
	}
	w := ToneWAV(440, 0.5)
	back, err := DecodeWAV(w.Encode())
	if err != nil || back.SampleRate != 8000 || back.Channels != 1 || len(back.Samples) != 4000 || back.RMS() < 5000 {
		t.Fatalf("wav round trip: %+v %v", back, err)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
