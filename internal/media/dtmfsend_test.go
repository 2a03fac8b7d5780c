package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-oss/switchboard/internal/media/dtmf"
)

// doneRecorder collects the results of SendDigits and counts calls.
type doneRecorder struct {
	mu   sync.Mutex
	errs []error
	ch   chan error
}

func newDone() *doneRecorder { return &doneRecorder{ch: make(chan error, 16)} }

func (d *doneRecorder) fn(err error) {
	d.mu.Lock()
	d.errs = append(d.errs, err)
	d.mu.Unlock()
	d.ch <- err
}

func (d *doneRecorder) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-d.ch:
		return err
	case <-time.After(waitTimeout):
		t.Fatal("done not called")
		return nil
	}
}

func (d *doneRecorder) calls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.errs)
}

// sentEvent is an RFC 4733 payload decoded independently of the leg.
type sentEvent struct {
	event  uint8
	end    bool
	volume uint8
	dur    uint16
}

func decodeEvent(t *testing.T, b []byte) sentEvent {
	t.Helper()
	if len(b) != 4 {
		t.Fatalf("event payload of %d bytes", len(b))
	}
	return sentEvent{event: b[0], end: b[1]&0x80 != 0, volume: b[1] & 0x3F, dur: binary.BigEndian.Uint16(b[2:])}
}

// checkStream checks that pkts are one RTP stream: one SSRC, consecutive
// sequence numbers.
func checkStream(t *testing.T, pkts []*rtp.Packet) {
	t.Helper()
	for i, p := range pkts[1:] {
		prev := pkts[i]
		if p.SSRC != prev.SSRC || p.SequenceNumber != prev.SequenceNumber+1 {
			t.Fatalf("packet %d: ssrc %x seq %d after ssrc %x seq %d", i+1, p.SSRC, p.SequenceNumber, prev.SSRC, prev.SequenceNumber)
		}
	}
}

func TestSendDigitsRFC4733(t *testing.T) {
	leg, _, p := inbandLeg(t, "0 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16")
	waitFor(t, "audio flowing", func() bool { return p.count() >= 3 })
	d := newDone()
	leg.SendDigits("12#", 0, 0, d.fn)
	if err := d.wait(t); err != nil {
		t.Fatalf("done(%v)", err)
	}
	n := p.count()
	waitFor(t, "audio after the digits", func() bool { return p.count() >= n+3 })
	pkts := p.packets()
	checkStream(t, pkts)

	// Walk the stream: audio (PT 0) until an event starts, then the
	// event's packets, decoded here and by the engine's own receiver.
	var rx dtmfReceiver
	var got []string
	for i := 0; i < len(pkts); i++ {
		pk := pkts[i]
		if pk.PayloadType == 0 {
			if i > 0 && pkts[i-1].PayloadType == 0 && pk.Timestamp != pkts[i-1].Timestamp+FrameSamples {
				t.Fatalf("audio packet %d: ts %d after %d", i, pk.Timestamp, pkts[i-1].Timestamp)
			}
			continue
		}
		if pk.PayloadType != 101 {
			t.Fatalf("packet %d: pt %d", i, pk.PayloadType)
		}
		// The event's timestamp is that of the frame its first packet
		// replaces.
		if i == 0 || pkts[i-1].PayloadType != 0 || pk.Timestamp != pkts[i-1].Timestamp+FrameSamples {
			t.Fatalf("event at packet %d: ts %d does not follow the audio", i, pk.Timestamp)
		}
		var desc []string
		for j := 0; j < 7; j++ {
			q := pkts[i+j]
			ev := decodeEvent(t, q.Payload)
			if q.PayloadType != 101 || q.Timestamp != pk.Timestamp || q.Marker != (j == 0) || ev.volume != 10 || ev.event != pk.Payload[0] {
				t.Fatalf("event packet %d of %d: %+v %+v", j, i, q.Header, ev)
			}
			desc = append(desc, fmt.Sprintf("%d%s", ev.dur, map[bool]string{true: "E"}[ev.end]))
			rep, err := rx.receive(q.SSRC, q.Timestamp, q.Payload)
			if err != nil || (j == 0) != rep.onset || (j == 4) != rep.end {
				t.Fatalf("receiver on packet %d of %d: %+v %v", j, i, rep, err)
			}
			if rep.end && rep.duration != 800 {
				t.Fatalf("receiver: duration %d", rep.duration)
			}
		}
		if s := strings.Join(desc, " "); s != "160 320 480 640 800E 800E 800E" {
			t.Errorf("event %d: durations %s", len(got), s)
		}
		got = append(got, string(dtmfDigits[pk.Payload[0]]))
		i += 7
		// Audio resumes in the frame after the last copy of the end packet.
		if a := pkts[i]; a.PayloadType != 0 || a.Marker || a.Timestamp != pk.Timestamp+7*FrameSamples {
			t.Fatalf("after event: %+v", a.Header)
		}
		// 60 ms gap: two end copies and one audio frame.
		if len(got) < 3 && pkts[i+1].PayloadType != 101 {
			t.Fatalf("gap is not one audio frame")
		}
	}
	if strings.Join(got, "") != "12#" {
		t.Fatalf("events %q, want 12#", got)
	}
	if d.calls() != 1 {
		t.Fatalf("done called %d times", d.calls())
	}
}

// TestSendDigitsInband: without telephone-event the digits are tones in
// the audio, which the detector finds in what the peer received.
func TestSendDigitsInband(t *testing.T) {
	for _, pt := range []uint8{0, 8} {
		leg, _, p := inbandLeg(t, string('0'+pt))
		waitFor(t, "audio flowing", func() bool { return p.count() >= 3 })
		d := newDone()
		leg.SendDigits("12#", 0, 0, d.fn)
		leg.SendDigits("a0", 60*time.Millisecond, 80*time.Millisecond, d.fn) // queued behind
		for range 2 {
			if err := d.wait(t); err != nil {
				t.Fatalf("done(%v)", err)
			}
		}
		n := p.count()
		waitFor(t, "audio after the digits", func() bool { return p.count() >= n+5 })
		pkts := p.packets()
		checkStream(t, pkts)
		var det dtmf.Detector
		var got []byte
		for _, pk := range pkts {
			if pk.PayloadType != pt {
				t.Fatalf("pt %d: packet with pt %d", pt, pk.PayloadType)
			}
			det.Process(decodePayload(pt, pk.Payload), func(e dtmf.Event) {
				if !e.End {
					got = append(got, e.Digit)
				}
			})
		}
		if string(got) != "12#A0" {
			t.Errorf("pt %d: peer's audio holds %q, want 12#A0", pt, got)
		}
	}
}

func TestSendDigitsCompletion(t *testing.T) {
	leg, _, p := inbandLeg(t, "0 101", "a=rtpmap:101 telephone-event/8000")
	waitFor(t, "audio flowing", func() bool { return p.count() >= 1 })

	d := newDone()
	leg.SendDigits("12x", 0, 0, d.fn)
	if err := d.wait(t); !errors.Is(err, ErrInvalidDigit) {
		t.Errorf("invalid digit: done(%v)", err)
	}
	leg.SendDigits("", 0, 0, d.fn)
	if err := d.wait(t); err != nil {
		t.Errorf("no digits: done(%v)", err)
	}
	leg.SendDigits("1", 0, 0, nil) // done may be nil

	// A long digit and a queued request fail when the leg closes.
	long, queued := newDone(), newDone()
	leg.SendDigits("9", 5*time.Second, 0, long.fn)
	leg.SendDigits("8", 0, 0, queued.fn)
	n := p.count()
	waitFor(t, "the long digit playing", func() bool {
		for _, pk := range p.packets()[n:] {
			if pk.PayloadType == 101 && pk.Payload[0] == 9 {
				return true
			}
		}
		return false
	})
	leg.Close()
	if err := long.wait(t); !errors.Is(err, ErrClosed) {
		t.Errorf("long digit: done(%v)", err)
	}
	if err := queued.wait(t); !errors.Is(err, ErrClosed) {
		t.Errorf("queued digit: done(%v)", err)
	}
	leg.SendDigits("1", 0, 0, d.fn)
	if err := d.wait(t); !errors.Is(err, ErrClosed) {
		t.Errorf("closed leg: done(%v)", err)
	}
	time.Sleep(50 * time.Millisecond)
	if long.calls() != 1 || queued.calls() != 1 || d.calls() != 3 {
		t.Errorf("done calls %d, %d, %d", long.calls(), queued.calls(), d.calls())
	}
}

func TestDigitFrames(t *testing.T) {
	for _, tc := range []struct {
		d, def time.Duration
		want   int
	}{
		{0, DefaultDigitDuration, 5}, {-time.Second, DefaultDigitGap, 3}, {time.Millisecond, DefaultDigitGap, 2},
		{50 * time.Millisecond, DefaultDigitDuration, 3}, {time.Hour, DefaultDigitDuration, 400},
	} {
		if got := frames(tc.d, tc.def, minDigitDuration, maxDigitDuration); got != tc.want {
			t.Errorf("frames(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

// TestSendDigitsAllocs: clock ticks while digits play, as events or as
// tones, do not allocate.
func TestSendDigitsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	cfg := testConfig()
	cfg.InactivityTimeout = time.Hour
	e := newEngine(t, cfg)
	m := e.NewMixer()
	t.Cleanup(m.Close)
	port := sink(t)
	for _, formats := range []string{"0 101", "8"} {
		l, err := e.NewLeg(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Answer(offerSDP(port, formats, "a=rtpmap:101 telephone-event/8000")); err != nil {
			t.Fatal(err)
		}
		l.Start()
		if err := m.Add(l); err != nil {
			t.Fatal(err)
		}
		l.SendDigits(strings.Repeat("123", 20), 0, 0, nil)
	}
	now := time.Now()
	e.tick(now, 0)
	if a := testing.AllocsPerRun(200, func() { e.tick(now, 0) }); a != 0 {
		t.Errorf("clock tick with digits playing: %v allocs", a)
	}
}
