package load

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

const (
	testSIPPort   = 5060
	testSIPpPort  = 5070
	testSIPpMedia = 40000
	msNS          = int64(1e6)
)

func testFilter(mask uint16) captureFilter {
	return captureFilter{ServerSIPPort: testSIPPort, MediaMin: 20000, MediaMax: 39999, SIPpMediaPort: testSIPpMedia, SampleMask: mask}
}

// feedCall plays one call's packets into tr: INVITE at t0 (retransmitted),
// 100 and 200 (media port), ACK, prompt RTP with the given per-packet
// arrival offsets, silence around it, and the server's BYE at bye.
func feedCall(tr *tracker, callID string, t0 int64, mediaPort uint16, arrivals []int64, bye int64) {
	toServer := func(ts int64, b []byte) { tr.packet(ts, ipv4UDP(testSIPpPort, testSIPPort, b)) }
	fromServer := func(ts int64, b []byte) { tr.packet(ts, ipv4UDP(testSIPPort, testSIPpPort, b)) }
	rtp := func(ts int64, seq uint16, rtpTS uint32, fill byte) {
		tr.packet(ts, ipv4UDP(mediaPort, testSIPpMedia, rtpPacket(0, seq, rtpTS, fill)))
	}
	toServer(t0, sipRequest("INVITE", callID, 1, "INVITE"))
	toServer(t0+500*msNS, sipRequest("INVITE", callID, 1, "INVITE"))
	fromServer(t0+1*msNS, sipResponse(100, callID, "INVITE", 0))
	fromServer(t0+3*msNS, sipResponse(200, callID, "INVITE", int(mediaPort)))
	toServer(t0+4*msNS, sipRequest("ACK", callID, 1, "ACK"))
	seq, rtpTS := uint16(65530), uint32(4294967000) // both wrap during the call
	rtp(t0+5*msNS, seq, rtpTS, silentFill)
	for _, a := range arrivals {
		seq++
		rtpTS += 160
		rtp(t0+a, seq, rtpTS, voicedFill)
	}
	seq++
	rtpTS += 160
	rtp(bye-1*msNS, seq, rtpTS, silentFill)
	fromServer(bye, sipRequest("BYE", callID, 2, "BYE"))
	toServer(bye+1*msNS, sipResponse(200, callID, "BYE", 0))
}

func TestTrackerCall(t *testing.T) {
	tr := newTracker(testFilter(0))
	t0 := int64(1_700_000_000) * 1e9
	// 50 prompt packets 20 ms apart, but the 10th arrives 4 ms late (and the
	// 11th on time).
	var arrivals []int64
	for i := range 50 {
		a := 30*msNS + int64(i)*20*msNS
		if i == 9 {
			a += 4 * msNS
		}
		arrivals = append(arrivals, a)
	}
	bye := t0 + 30*msNS + 50*20*msNS + 15*msNS
	feedCall(tr, "call-1", t0, 20000, arrivals, bye)
	// A BYE for a call that started before this run is ignored.
	tr.packet(t0, ipv4UDP(testSIPPort, testSIPpPort, sipRequest("BYE", "old", 2, "BYE")))

	r := tr.result()
	if len(r.Calls) != 1 {
		t.Fatalf("calls = %d, want 1", len(r.Calls))
	}
	c := r.Calls[0]
	if c.Invite != t0 || c.InviteRetrans != 1 || c.OK != t0+3*msNS || c.Ack != t0+4*msNS || c.ServerBye != bye ||
		c.CallerBye != 0 || c.FinalStatus != 0 || c.ServerRTPPort != 20000 {
		t.Errorf("call trace = %+v", c)
	}
	if len(r.Streams) != 1 {
		t.Fatalf("streams = %d, want 1", len(r.Streams))
	}
	s := r.Streams[0]
	if s.Packets != 52 || s.Voiced != 50 || s.Lost != 0 || s.OtherPT != 0 || c.stream != s {
		t.Errorf("stream = %+v", s)
	}
	if s.FirstVoiced != t0+arrivals[0] || s.LastVoiced != t0+arrivals[49] {
		t.Errorf("prompt from %d to %d", s.FirstVoiced-t0, s.LastVoiced-t0)
	}
	// 49 gaps: 47 of 20 ms, one of 24 ms, one of 16 ms.
	if r.Gaps.n != 49 || r.Gaps.maxMS() != 24 || r.Gaps.percentileMS(50) != 20.05 {
		t.Errorf("gaps: n=%d max=%v p50=%v", r.Gaps.n, r.Gaps.maxMS(), r.Gaps.percentileMS(50))
	}
	// RFC 3550 jitter: |D| is 4 ms twice (late, then early again), 0 otherwise.
	j := 0.0
	for i := 1; i < 50; i++ {
		d := 0.0
		if i == 9 || i == 10 {
			d = 4e6
		}
		j += (d - j) / 16
	}
	if math.Abs(s.JitterNS-j) > 1 || s.MaxJitterNS < 4e6/16*1.9 {
		t.Errorf("jitter = %v ns (max %v), want %v", s.JitterNS, s.MaxJitterNS, j)
	}

	res := Result{Failures: Failures{ByStatus: map[int]int{}}}
	fromTrace(&res, r, time.Duration(1000)*time.Millisecond)
	if res.Attempted != 1 || res.Completed != 1 || res.Failures.Total != 0 || res.InviteTo200.P50 != 3 {
		t.Errorf("result = %+v", res)
	}
	if want := ms(bye-(t0+4*msNS)) - 1000; res.Overrun.P50 != want {
		t.Errorf("overrun = %v, want %v", res.Overrun.P50, want)
	}
}

func TestTrackerFailures(t *testing.T) {
	tr := newTracker(testFilter(0))
	toServer := func(ts int64, b []byte) { tr.packet(ts, ipv4UDP(testSIPpPort, testSIPPort, b)) }
	fromServer := func(ts int64, b []byte) { tr.packet(ts, ipv4UDP(testSIPPort, testSIPpPort, b)) }
	// refused
	toServer(1, sipRequest("INVITE", "busy", 1, "INVITE"))
	fromServer(2, sipResponse(503, "busy", "INVITE", 0))
	toServer(3, sipRequest("ACK", "busy", 1, "ACK"))
	// not answered: SIPp cancels, the server answers 487
	toServer(1, sipRequest("INVITE", "slow", 1, "INVITE"))
	toServer(5, sipRequest("CANCEL", "slow", 1, "CANCEL"))
	fromServer(6, sipResponse(487, "slow", "INVITE", 0))
	// no response at all
	toServer(1, sipRequest("INVITE", "lost", 1, "INVITE"))
	// answered, but SIPp hung up itself
	toServer(1, sipRequest("INVITE", "nobye", 1, "INVITE"))
	fromServer(2, sipResponse(200, "nobye", "INVITE", 20002))
	toServer(3, sipRequest("ACK", "nobye", 1, "ACK"))
	toServer(9, sipRequest("BYE", "nobye", 2, "BYE"))
	// another error
	toServer(1, sipRequest("INVITE", "gone", 1, "INVITE"))
	fromServer(2, sipResponse(480, "gone", "INVITE", 0))

	res := Result{Failures: Failures{ByStatus: map[int]int{}}}
	fromTrace(&res, tr.result(), time.Second)
	f := res.Failures
	if res.Attempted != 5 || res.Completed != 0 || f.Total != 5 || f.Status503 != 1 || f.Timeout != 2 || f.NoBye != 1 ||
		f.Other != 1 || f.ByStatus[480] != 1 {
		t.Errorf("attempted %d completed %d failures %+v", res.Attempted, res.Completed, f)
	}
}

func TestTrackerSampling(t *testing.T) {
	f := testFilter(sampleMaskFor(100, 32)) // every fourth call
	if f.SampleMask != 3 {
		t.Fatalf("mask for 100 calls, 32 streams = %d, want 3", f.SampleMask)
	}
	tr := newTracker(f)
	for i := range 8 {
		port := uint16(20000 + 2*i)
		tr.packet(int64(i), ipv4UDP(port, testSIPpMedia, rtpPacket(0, 1, 160, voicedFill)))
	}
	tr.packet(9, ipv4UDP(20001, testSIPpMedia, rtpPacket(0, 1, 160, voicedFill)))   // odd: RTCP's port
	tr.packet(9, ipv4UDP(40000, testSIPpMedia, rtpPacket(0, 1, 160, voicedFill)))   // not the server's
	tr.packet(9, ipv4UDP(20000, testSIPpMedia+2, rtpPacket(0, 1, 160, voicedFill))) // not to SIPp's RTP port
	r := tr.result()
	if len(r.Streams) != 2 {
		t.Errorf("streams = %d, want 2 (ports 20000 and 20008)", len(r.Streams))
	}
	for _, c := range []struct{ conc, target, want int }{{1, 32, 0}, {32, 32, 0}, {33, 32, 1}, {2000, 32, 63}} {
		if got := sampleMaskFor(c.conc, c.target); int(got) != c.want {
			t.Errorf("sampleMaskFor(%d, %d) = %d, want %d", c.conc, c.target, got, c.want)
		}
	}
}

func TestTrackerRTPDoesNotAllocate(t *testing.T) {
	tr := newTracker(testFilter(0))
	pkt := ipv4UDP(20000, testSIPpMedia, rtpPacket(0, 1, 160, voicedFill))
	tr.packet(1, pkt) // the stream is created once
	ts := int64(1)
	if n := testing.AllocsPerRun(1000, func() {
		ts += 20 * msNS
		tr.packet(ts, pkt)
	}); n != 0 {
		t.Errorf("an RTP packet allocates %v times", n)
	}
}

func TestIsVoiced(t *testing.T) {
	if isVoiced(make([]byte, 160)) != true { // 0x00 is the loudest negative µ-law code
		t.Error("full-scale audio is not voiced")
	}
	silence := make([]byte, 160)
	for i := range silence {
		silence[i] = silentFill
	}
	if isVoiced(silence) || isVoiced(nil) {
		t.Error("silence is voiced")
	}
	// The harness's prompt, as the server would send it.
	wav := promptWAV(time.Second)
	pcm := make([]int16, (len(wav)-wavHeaderBytes)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(wav[wavHeaderBytes+2*i:]))
	}
	ulaw := make([]byte, len(pcm))
	g711.EncodeUlawFrame(ulaw, pcm)
	if len(pcm) != sampleRate {
		t.Fatalf("a 1 s prompt has %d samples", len(pcm))
	}
	for i := 0; i+160 <= len(ulaw); i += 160 {
		if !isVoiced(ulaw[i : i+160]) {
			t.Fatalf("prompt frame %d is not voiced", i/160)
		}
	}
}
