package audio

import (
	"sync"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/media"
)

var _ media.FrameSource = (*Player)(nil)

func TestSampleRateIsMediaRate(t *testing.T) {
	if SampleRate != media.InternalRate {
		t.Fatalf("SampleRate %d != media.InternalRate %d", SampleRate, media.InternalRate)
	}
}

// ramp returns a prompt of n samples start, start+1, ...
func ramp(start, n int) *Prompt {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(start + i)
	}
	return &Prompt{Samples: s}
}

// drain reads frames until done (at most limit frames) and returns the
// samples, the frame count before done and the n values.
func drain(t *testing.T, p *Player, limit int) (out []int16, frames int) {
	t.Helper()
	var buf [media.FrameSamples]int16
	for frames = 0; frames < limit; frames++ {
		for i := range buf {
			buf[i] = -1 // detect samples left unwritten
		}
		n, done := p.ReadFrame(buf[:])
		if done {
			if n != 0 {
				t.Fatalf("done frame carries %d samples", n)
			}
			return out, frames
		}
		if n != len(buf) {
			t.Fatalf("frame %d: n = %d, want a full frame", frames, n)
		}
		out = append(out, buf[:]...)
	}
	t.Fatalf("not done after %d frames", limit)
	return nil, 0
}

func TestPlayerOrderAndPadding(t *testing.T) {
	// 100 + 250 samples: 350 = 2 full frames + 30, padded to 3 frames.
	a, b := ramp(1000, 100), ramp(5000, 250)
	p := NewPlayer([]*Prompt{a, b}, false)
	out, frames := drain(t, p, 10)
	if frames != 3 {
		t.Fatalf("%d frames before done, want 3", frames)
	}
	want := append(append([]int16{}, a.Samples...), b.Samples...)
	for i := range out {
		w := int16(0)
		if i < len(want) {
			w = want[i]
		}
		if out[i] != w {
			t.Fatalf("sample %d = %d, want %d", i, out[i], w)
		}
	}
	if p.Position() != 350 {
		t.Errorf("Position = %d, want 350 (padding excluded)", p.Position())
	}
	if p.Index() != 1 {
		t.Errorf("Index = %d after the end, want 1", p.Index())
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done not closed after done")
	}
	if p.Stopped() {
		t.Error("Stopped after playing out")
	}
	// done is sticky.
	if n, done := p.ReadFrame(make([]int16, media.FrameSamples)); n != 0 || !done {
		t.Errorf("after done: %d, %v", n, done)
	}
}

func TestPlayerExactFrames(t *testing.T) {
	// A list ending on a frame boundary is done on the next call.
	p := NewPlayer([]*Prompt{ramp(0, 2*media.FrameSamples)}, false)
	if _, frames := drain(t, p, 10); frames != 2 {
		t.Errorf("%d frames, want 2", frames)
	}
}

func TestPlayerIndex(t *testing.T) {
	p := NewPlayer([]*Prompt{ramp(0, 160), nil, {}, ramp(0, 200), ramp(0, 10)}, false)
	var buf [media.FrameSamples]int16
	want := []int{0, 3, 4} // after frame 1 (prompt 0), 2 (prompt 3), 3 (prompts 3,4)
	if p.Index() != 0 {
		t.Fatalf("initial Index = %d", p.Index())
	}
	for i, w := range want {
		if _, done := p.ReadFrame(buf[:]); done {
			t.Fatalf("done at frame %d", i)
		}
		if p.Index() != w {
			t.Errorf("after frame %d: Index = %d, want %d", i, p.Index(), w)
		}
	}
	if _, done := p.ReadFrame(buf[:]); !done {
		t.Error("not done")
	}
	if p.Index() != 4 {
		t.Errorf("Index = %d after the end, want 4", p.Index())
	}
}

func TestPlayerLoop(t *testing.T) {
	// Loop runs the list back to back with no gap, across frames.
	a, b := ramp(1, 70), ramp(100, 30) // 100 samples a pass
	p := NewPlayer([]*Prompt{a, b}, true)
	var buf [media.FrameSamples]int16
	var out []int16
	sawIndex := map[int]bool{}
	for f := 0; f < 20; f++ {
		n, done := p.ReadFrame(buf[:])
		if done || n != len(buf) {
			t.Fatalf("frame %d: %d, %v", f, n, done)
		}
		sawIndex[p.Index()] = true
		out = append(out, buf[:]...)
	}
	pass := append(append([]int16{}, a.Samples...), b.Samples...)
	for i, v := range out {
		if v != pass[i%len(pass)] {
			t.Fatalf("sample %d = %d, want %d", i, v, pass[i%len(pass)])
		}
	}
	if !sawIndex[0] || !sawIndex[1] {
		t.Errorf("Index values seen: %v", sawIndex)
	}
	if p.Position() != 20*media.FrameSamples {
		t.Errorf("Position = %d", p.Position())
	}
	p.Stop()
	if n, done := p.ReadFrame(buf[:]); n != 0 || !done {
		t.Errorf("after Stop: %d, %v", n, done)
	}
	if !p.Stopped() {
		t.Error("Stopped = false")
	}
	<-p.Done()
}

func TestPlayerEmpty(t *testing.T) {
	for name, p := range map[string]*Player{
		"nil list":         NewPlayer(nil, false),
		"empty loop":       NewPlayer(nil, true),
		"empty prompts":    NewPlayer([]*Prompt{{}, nil}, true),
		"stopped at start": func() *Player { p := NewPlayer([]*Prompt{ramp(0, 1000)}, false); p.Stop(); return p }(),
	} {
		if _, frames := drain(t, p, 1); frames != 0 {
			t.Errorf("%s: %d frames", name, frames)
		}
		<-p.Done()
	}
}

func TestPlayerStopMidway(t *testing.T) {
	p := NewPlayer([]*Prompt{ramp(0, 10000)}, false)
	var buf [media.FrameSamples]int16
	p.ReadFrame(buf[:])
	p.ReadFrame(buf[:])
	p.Stop()
	p.Stop() // idempotent
	buf[0] = 42
	if n, done := p.ReadFrame(buf[:]); n != 0 || !done || buf[0] != 42 {
		t.Errorf("after Stop: n=%d done=%v, dst touched=%v", n, done, buf[0] != 42)
	}
	if p.Position() != 2*media.FrameSamples {
		t.Errorf("Position = %d", p.Position())
	}
}

func TestPlayerStopConcurrent(t *testing.T) {
	// ReadFrame on the "clock" goroutine, Stop and the getters elsewhere
	// (run with -race).
	p := NewPlayer([]*Prompt{Tone(440, time.Second, 1000)}, true)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var buf [media.FrameSamples]int16
		for {
			if _, done := p.ReadFrame(buf[:]); done {
				return
			}
		}
	}()
	for p.Position() < 10*media.FrameSamples {
		_ = p.Index()
	}
	p.Stop()
	<-p.Done()
	wg.Wait()
}

func TestPlayerZeroAlloc(t *testing.T) {
	p := NewPlayer([]*Prompt{Tone(440, time.Second, 1000), Tone(880, 130*time.Millisecond, 1000)}, true)
	var buf [media.FrameSamples]int16
	allocs := testing.AllocsPerRun(1000, func() {
		p.ReadFrame(buf[:])
		_ = p.Index()
		_ = p.Position()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per ReadFrame", allocs)
	}
}

func TestTone(t *testing.T) {
	p := Tone(1000, 500*time.Millisecond, 8000)
	if len(p.Samples) != 4000 || p.Duration() != 500*time.Millisecond {
		t.Fatalf("%d samples, %v", len(p.Samples), p.Duration())
	}
	checkTone(t, p.Samples, 1000, 8000, 0.05)
	if n := len(Tone(1000, -time.Second, 1).Samples); n != 0 {
		t.Errorf("negative duration: %d samples", n)
	}
	if d := Tone(1000, 1001*time.Microsecond, 1).Duration(); d != time.Millisecond {
		t.Errorf("rounding: %v", d)
	}
	var nilPrompt *Prompt
	if nilPrompt.Duration() != 0 {
		t.Error("nil prompt has a duration")
	}
}

func BenchmarkPlayerReadFrame(b *testing.B) {
	p := NewPlayer([]*Prompt{Tone(440, 3*time.Second, 1000), Tone(880, 130*time.Millisecond, 1000)}, true)
	var buf [media.FrameSamples]int16
	b.ReportAllocs()
	for b.Loop() {
		p.ReadFrame(buf[:])
	}
}
