package vad

import (
	"math"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/speech/stt/sttest"
)

const frameDur = 20 * time.Millisecond

// events runs pcm through a detector frame by frame.
func events(t *testing.T, cfg Config, pcm []int16) []Event {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []Event
	for _, f := range sttest.Frames(pcm) {
		if ev := d.Process(f); ev.Kind != None {
			out = append(out, ev)
		}
	}
	return out
}

// tone is a voiced-looking burst: a 220 Hz sine with harmonics.
func tone(d time.Duration, amplitude float64) []int16 {
	out := make([]int16, sttest.Samples(d))
	for i := range out {
		x := float64(i) / sttest.Rate
		v := math.Sin(2*math.Pi*220*x) + 0.5*math.Sin(2*math.Pi*440*x) + 0.25*math.Sin(2*math.Pi*660*x)
		out[i] = int16(amplitude * v / 1.75)
	}
	return out
}

func TestToneBurstEvents(t *testing.T) {
	pcm := sttest.Concat(
		sttest.Noise(time.Second, 20, 1), // -64 dBFS line noise
		tone(time.Second, 6000),
		sttest.Noise(2*time.Second, 20, 2),
	)
	got := events(t, Config{EndSilence: 600 * time.Millisecond}, pcm)
	want := []Event{{SpeechStart, 50}, {SpeechEnd, 100}}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || abs(got[i].Frame-want[i].Frame) > 1 {
			t.Errorf("event %d = %+v, want %+v (±1 frame)", i, got[i], want[i])
		}
	}
}

func TestEndSilenceTimesTheEnd(t *testing.T) {
	pcm := sttest.Concat(sttest.Silence(500*time.Millisecond), tone(time.Second, 6000), sttest.Silence(3*time.Second))
	for _, end := range []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, 1500 * time.Millisecond} {
		d, err := New(Config{EndSilence: end})
		if err != nil {
			t.Fatal(err)
		}
		emitted, endFrame := -1, -1
		for i, f := range sttest.Frames(pcm) {
			if ev := d.Process(f); ev.Kind == SpeechEnd {
				emitted, endFrame = i, ev.Frame
			}
		}
		if endFrame < 74 || endFrame > 76 {
			t.Errorf("EndSilence %v: SpeechEnd at frame %d, want 75", end, endFrame)
		}
		if got := time.Duration(emitted-endFrame+1) * frameDur; got != end {
			t.Errorf("EndSilence %v: SpeechEnd reported %v after the silence began", end, got)
		}
	}
}

func TestShortPauseDoesNotEndSpeech(t *testing.T) {
	pcm := sttest.Concat(sttest.Silence(time.Second), tone(400*time.Millisecond, 6000),
		sttest.Silence(300*time.Millisecond), tone(400*time.Millisecond, 6000), sttest.Silence(2*time.Second))
	got := events(t, Config{EndSilence: 500 * time.Millisecond}, pcm)
	if len(got) != 2 || got[0].Kind != SpeechStart || got[1].Kind != SpeechEnd || got[1].Frame < 105 {
		t.Fatalf("events %v: want one start and one end after the second burst (frame ~105)", got)
	}
}

func TestNoOnsetForSilenceNoiseAndClicks(t *testing.T) {
	cases := map[string][]int16{
		"digital silence":  sttest.Silence(5 * time.Second),
		"line noise":       sttest.Noise(5*time.Second, 30, 3),
		"moderate noise":   sttest.Noise(5*time.Second, 1000, 4), // -30 dBFS
		"loud noise":       sttest.Noise(5*time.Second, 5000, 5), // -16 dBFS
		"noise after calm": sttest.Concat(sttest.Silence(time.Second), sttest.Noise(5*time.Second, 1000, 6)),
		"clicks 100ms":     sttest.Clicks(5*time.Second, 100*time.Millisecond, 20000),
		"clicks 250ms":     sttest.Clicks(5*time.Second, 250*time.Millisecond, 30000),
		"clicks in noise":  mix(sttest.Noise(5*time.Second, 30, 7), sttest.Clicks(5*time.Second, 60*time.Millisecond, 20000)),
	}
	for name, pcm := range cases {
		t.Run(name, func(t *testing.T) {
			if got := events(t, Config{}, pcm); len(got) != 0 {
				t.Fatalf("events %v, want none", got)
			}
		})
	}
}

func TestSpeechOnsetWithEspeak(t *testing.T) {
	bin := sttest.Espeak(t)
	cases := []struct {
		voice   sttest.Voice
		text    string
		lead    time.Duration
		noise   float64 // RMS of background noise (0: digital silence)
		snrDB   float64 // when > 0, noise relative to the speech instead
		maxLate time.Duration
	}{
		{sttest.Voice{Name: "en-us+m3", Speed: 150}, "please transfer me to the billing department", 700 * time.Millisecond, 0, 0, 100 * time.Millisecond},
		{sttest.Voice{Name: "en-gb"}, "sales", 1200 * time.Millisecond, 20, 0, 100 * time.Millisecond},
		{sttest.Voice{Name: "en-us+f3", Speed: 130}, "operator", 500 * time.Millisecond, 0, 15, 100 * time.Millisecond},
		{sttest.Voice{Name: "en-us", Speed: 180}, "yes", 900 * time.Millisecond, 0, 15, 100 * time.Millisecond},
		{sttest.Voice{Name: "en-gb-x-rp"}, "support", 300 * time.Millisecond, 100, 0, 100 * time.Millisecond},
	}
	for i, c := range cases {
		t.Run(c.voice.String()+"/"+c.text, func(t *testing.T) {
			speech := sttest.Say(t, bin, c.voice, c.text)
			truth := len(sttest.Silence(c.lead)) + sttest.SpeechStart(speech, 300)
			lastLoud := len(speech) - 1
			for lastLoud > 0 && abs(int(speech[lastLoud])) < 300 {
				lastLoud--
			}
			lastLoud += len(sttest.Silence(c.lead))
			pcm := sttest.Concat(sttest.Silence(c.lead), speech, sttest.Silence(2*time.Second))
			switch {
			case c.snrDB > 0:
				pcm = sttest.AddNoise(pcm, c.snrDB, uint64(i))
			case c.noise > 0:
				pcm = mix(pcm, sttest.Noise(time.Duration(len(pcm))*time.Second/sttest.Rate, c.noise, uint64(i)))
			}
			got := events(t, Config{EndSilence: 800 * time.Millisecond}, pcm)
			if len(got) == 0 || got[0].Kind != SpeechStart {
				t.Fatalf("events %v, want a SpeechStart first", got)
			}
			onset := time.Duration(got[0].Frame*sttest.FrameSize-truth) * time.Second / sttest.Rate
			t.Logf("onset %v from the first loud sample; events %v", onset, got)
			if onset < -40*time.Millisecond || onset > c.maxLate {
				t.Errorf("onset %v after the speech began, want within [-40ms, %v]", onset, c.maxLate)
			}
			last := got[len(got)-1]
			if last.Kind != SpeechEnd {
				t.Fatalf("events %v, want a SpeechEnd last", got)
			}
			end := time.Duration(last.Frame*sttest.FrameSize-lastLoud) * time.Second / sttest.Rate
			// A trailing fricative may drown in the noise: allow an early end.
			if end < -200*time.Millisecond || end > 300*time.Millisecond {
				t.Errorf("speech end %v from the last loud sample, want within [-200ms, 300ms]", end)
			}
		})
	}
}

func TestDeterministicAndAllocationFree(t *testing.T) {
	pcm := sttest.Concat(sttest.Noise(time.Second, 30, 9), tone(time.Second, 5000), sttest.Noise(time.Second, 30, 10))
	a, b := events(t, Config{}, pcm), events(t, Config{}, pcm)
	if len(a) != 2 || len(a) != len(b) || a[0] != b[0] || a[1] != b[1] {
		t.Fatalf("runs differ or are wrong: %v vs %v", a, b)
	}
	d, _ := New(Config{})
	frames := sttest.Frames(pcm)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		d.Process(frames[i%len(frames)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("Process allocates %v times per frame", allocs)
	}
}

func TestResetAndAccessors(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sttest.Frames(sttest.Concat(sttest.Noise(time.Second, 30, 11), tone(time.Second, 6000))) {
		d.Process(f)
	}
	if !d.InSpeech() || d.Frames() != 100 || d.Level() < -30 || d.NoiseFloor() > -55 {
		t.Fatalf("in speech %v, frames %d, level %.1f, floor %.1f", d.InSpeech(), d.Frames(), d.Level(), d.NoiseFloor())
	}
	d.Reset()
	if d.InSpeech() || d.Frames() != 0 || !math.IsNaN(d.NoiseFloor()) {
		t.Fatalf("after Reset: in speech %v, frames %d, floor %v", d.InSpeech(), d.Frames(), d.NoiseFloor())
	}
	if ev := d.Process(nil); ev.Kind != None || d.Frames() != 0 {
		t.Fatalf("empty frame: %v, frames %d", ev, d.Frames())
	}
	if d.Config().EndSilence != DefaultEndSilence || d.Config().FrameSize != 160 {
		t.Fatalf("defaults not filled in: %+v", d.Config())
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{SampleRate: 10},
		{Threshold: 5, Hysteresis: 6},
		{OnsetFrames: -1},
		{EndSilence: -time.Second},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if SpeechStart.String() != "SpeechStart" || SpeechEnd.String() != "SpeechEnd" || None.String() != "None" {
		t.Error("Kind.String")
	}
}

func BenchmarkProcess(b *testing.B) {
	d, _ := New(Config{})
	frames := sttest.Frames(sttest.Concat(sttest.Noise(time.Second, 30, 1), tone(time.Second, 5000)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Process(frames[i%len(frames)])
	}
}

func mix(a, b []int16) []int16 {
	out := make([]int16, max(len(a), len(b)))
	for i := range out {
		var v int
		if i < len(a) {
			v += int(a[i])
		}
		if i < len(b) {
			v += int(b[i])
		}
		out[i] = int16(max(-32768, min(32767, v)))
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
