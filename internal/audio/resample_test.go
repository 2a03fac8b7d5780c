package audio

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestResampleDownPassband(t *testing.T) {
	// Tones in the telephone band keep their frequency and level.
	const amp = 10000
	for _, from := range []int{11025, 16000, 22050, 24000, 32000, 44100, 48000, 47999} {
		for _, f := range []float64{300, 1000, 2000, 3000, 3400} {
			t.Run(fmt.Sprintf("%d/%v", from, f), func(t *testing.T) {
				in := sineInt16(f, from, from/2, amp)
				out := Resample(nil, in, from, SampleRate)
				if want := (len(in)*SampleRate + from - 1) / from; len(out) != want {
					t.Fatalf("len %d, want %d", len(out), want)
				}
				m := middle(out)
				if pf := peakFreq(m, SampleRate, 100, 3900); math.Abs(pf-f) > 2 {
					t.Errorf("peak at %v Hz, want %v Hz", pf, f)
				}
				if d := db(toneAmp(m, f, SampleRate) / amp); math.Abs(d) > 0.1 {
					t.Errorf("level %+.3f dB, want within ±0.1 dB", d)
				}
			})
		}
	}
}

func TestResampleDownStopband(t *testing.T) {
	// Everything from 4 kHz up must not fold back into the output.
	const amp = 10000
	for _, from := range []int{16000, 22050, 44100, 48000} {
		for f := 4000.0; f < float64(from)/2; f += 500 {
			t.Run(fmt.Sprintf("%d/%v", from, f), func(t *testing.T) {
				in := sineInt16(f, from, from/2, amp)
				out := middle(Resample(nil, in, from, SampleRate))
				// rms*sqrt2 is the amplitude of whatever came through.
				if d := db(rms(out) * math.Sqrt2 / amp); d > -55 {
					t.Errorf("%v Hz came through at %.1f dB, want <= -55 dB", f, d)
				}
			})
		}
	}
}

func TestResampleBriefRequirement(t *testing.T) {
	// The figures the package promises: 3 kHz at 48 kHz keeps frequency
	// and level at 8 kHz, 6 kHz is at least 40 dB down.
	in3 := sineInt16(3000, 48000, 48000, 16000)
	out3 := Resample(nil, in3, 48000, 8000)
	checkTone(t, out3, 3000, 16000, 1)

	in6 := sineInt16(6000, 48000, 48000, 16000)
	out6 := middle(Resample(nil, in6, 48000, 8000))
	if d := db(rms(out6) * math.Sqrt2 / 16000); d > -40 {
		t.Errorf("6 kHz attenuated only %.1f dB", -d)
	}
	if a := toneAmp(out6, 2000, 8000); db(a/16000) > -40 { // where it would alias
		t.Errorf("alias at 2 kHz: %.1f dB", db(a/16000))
	}
}

func TestResampleUp(t *testing.T) {
	// Upsampling keeps the tone and suppresses the images above the old
	// Nyquist frequency.
	const amp = 10000
	for _, to := range []int{16000, 44100, 48000} {
		t.Run(fmt.Sprint(to), func(t *testing.T) {
			in := sineInt16(3000, 8000, 4000, amp)
			out := middle(Resample(nil, in, 8000, to))
			if d := db(toneAmp(out, 3000, to) / amp); math.Abs(d) > 0.1 {
				t.Errorf("level %+.2f dB", d)
			}
			if d := db(toneAmp(out, 5000, to) / amp); d > -55 {
				t.Errorf("image at 5 kHz %.1f dB", d)
			}
		})
	}
}

func TestResampleDC(t *testing.T) {
	// Every polyphase row has unity gain: a constant stays constant.
	for _, rates := range [][2]int{{48000, 8000}, {44100, 8000}, {11025, 8000}, {8000, 44100}, {47999, 8000}} {
		in := make([]int16, rates[0])
		for i := range in {
			in[i] = 12345
		}
		out := middle(Resample(nil, in, rates[0], rates[1]))
		for i, v := range out {
			if v < 12344 || v > 12346 {
				t.Fatalf("%v: out[%d] = %d, want 12345", rates, i, v)
			}
		}
	}
}

func TestResampleEdges(t *testing.T) {
	src := []int16{1, 2, 3}
	if got := Resample(nil, src, 8000, 8000); len(got) != 3 || got[2] != 3 {
		t.Errorf("equal rates: %v", got)
	}
	for _, r := range [][2]int{{0, 8000}, {8000, -1}, {999, 8000}, {8000, 192001}} {
		if got := Resample([]int16{9}, src, r[0], r[1]); len(got) != 0 {
			t.Errorf("rates %v: %v, want empty", r, got)
		}
	}
	if got := Resample(nil, nil, 48000, 8000); len(got) != 0 {
		t.Errorf("empty input: %v", got)
	}
	if got := Resample(nil, []int16{100}, 48000, 8000); len(got) != 1 {
		t.Errorf("one sample: %v", got)
	}
	if quantize(40000) != 32767 || quantize(-40000) != -32768 || quantize(float32(math.NaN())) != 0 || quantize(1.5) != 2 {
		t.Error("quantize does not round/saturate")
	}
}

func TestResampleReusesDst(t *testing.T) {
	in := sineInt16(1000, 48000, 4800, 1000)
	dst := Resample(nil, in, 48000, 8000)
	allocs := testing.AllocsPerRun(20, func() {
		dst = Resample(dst, in, 48000, 8000)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per call with a big enough dst", allocs)
	}
}

func TestStreamResamplerMatchesResample(t *testing.T) {
	// Feeding the streaming resampler in arbitrary chunks gives exactly
	// what Resample gives on the whole signal.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, from := range []int{8000, 11025, 44100, 48000, 47999, 96000} {
		in := make([]int16, 5000+rng.IntN(3000))
		for i := range in {
			in[i] = int16(rng.IntN(20000) - 10000)
		}
		want := Resample(nil, in, from, SampleRate)
		s := newStreamResampler(from, 0, len(want)+10)
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(700))
			f := make([]float32, n)
			for i := range f {
				f[i] = float32(rest[i])
			}
			s.write(f)
			rest = rest[n:]
		}
		got := s.finish()
		if len(got) != len(want) {
			t.Fatalf("%d Hz: %d samples, want %d", from, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%d Hz: sample %d = %d, want %d", from, i, got[i], want[i])
			}
		}
		if len(s.win) > 4096 {
			t.Errorf("%d Hz: window grew to %d samples", from, len(s.win))
		}
	}
}

func TestStreamResamplerLimit(t *testing.T) {
	s := newStreamResampler(48000, 0, 100)
	s.write(make([]float32, 48000))
	s.finish()
	if !s.over || len(s.out) != 100 {
		t.Errorf("over=%v len=%d, want over at 100", s.over, len(s.out))
	}
}

func BenchmarkResample(b *testing.B) {
	for _, from := range []int{16000, 22050, 44100, 48000} {
		b.Run(fmt.Sprint(from), func(b *testing.B) {
			in := sineInt16(1000, from, from, 10000) // one second
			dst := Resample(nil, in, from, SampleRate)
			b.ReportAllocs()
			b.SetBytes(int64(len(in) * 2))
			b.ResetTimer()
			for b.Loop() {
				dst = Resample(dst, in, from, SampleRate)
			}
		})
	}
}
