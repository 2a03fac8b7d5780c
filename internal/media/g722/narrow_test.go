package g722

import (
	"math"
	"testing"
)

const (
	settle8 = 800 // 100 ms at 8 kHz
	// SNR bounds for the narrowband chain (8 kHz → NarrowEncoder →
	// NarrowDecoder → 8 kHz), about 3 dB below the measured values in the
	// comments. The half-band filters cost nothing measurable in the
	// passband, so these match the 16 kHz codec's figures.
	snrNarrow1kMin   = 44 // 47.0
	snrNarrow3k4Min  = 43 // 46.9
	snrNarrowTwoTone = 34 // 300 Hz + 3 kHz, 37.2
)

func TestNarrowTones(t *testing.T) {
	for _, tc := range []struct {
		name   string
		freqs  []float64
		amps   []float64
		minSNR float64
	}{
		{"1kHz", []float64{1000}, []float64{10000}, snrNarrow1kMin},
		{"3.4kHz", []float64{3400}, []float64{10000}, snrNarrow3k4Min},
		{"300+3000Hz", []float64{300, 3000}, []float64{6000, 6000}, snrNarrowTwoTone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tone(8000, 8000, tc.freqs, tc.amps)
			out := narrowRoundTrip(t, in)
			s := snr(in, out, NarrowDelay, settle8)
			t.Logf("SNR %.2f dB", s)
			if s < tc.minSNR {
				t.Errorf("SNR %.2f dB < %v dB", s, tc.minSNR)
			}
			seg := out[settle8:]
			if len(tc.freqs) == 1 {
				if f := dominant(seg, 8000, 50); f != tc.freqs[0] {
					t.Errorf("dominant frequency %v Hz, want %v", f, tc.freqs[0])
				}
				// Level preserved within 0.2 dB.
				g := 10 * math.Log10(goertzel(seg, tc.freqs[0], 8000)/goertzel(in[settle8:], tc.freqs[0], 8000))
				if math.Abs(g) > 0.2 {
					t.Errorf("gain at %v Hz %.2f dB", tc.freqs[0], g)
				}
			}
		})
	}
}

// The delay of the narrowband chain is the documented one.
func TestNarrowDelay(t *testing.T) {
	in := noise(8000, 11, 8000)
	// Band-limit the noise to the passband first so that the filters do
	// not change it: it goes through the chain once to be filtered.
	in = narrowRoundTrip(t, in)[NarrowDelay:]
	out := narrowRoundTrip(t, in)
	best, bestD := -1.0, -1
	for d := 0; d < 80; d++ {
		if c := correlation(in, out, d, settle8); c > best {
			best, bestD = c, d
		}
	}
	if bestD != NarrowDelay || best < 0.99 {
		t.Errorf("output best aligned at delay %d (correlation %.4f), want %d", bestD, best, NarrowDelay)
	}
}

// A stream split into 20 ms frames gives exactly what one call over the
// whole stream gives: all filter and codec state is carried across calls.
func TestNarrowFramesEqualOneRun(t *testing.T) {
	in := append(tone(4000, 8000, []float64{440, 2900}, []float64{9000, 5000}), noise(4000, 9, 15000)...)
	whole := make([]byte, len(in))
	NewNarrowEncoder().Encode(whole, in)
	wholePCM := make([]int16, len(in))
	NewNarrowDecoder().Decode(wholePCM, whole)

	enc, dec := NewNarrowEncoder(), NewNarrowDecoder()
	frame := make([]byte, 160)
	pcm := make([]int16, 160)
	for off := 0; off < len(in); off += 160 {
		if n := enc.Encode(frame, in[off:off+160]); n != 160 {
			t.Fatalf("Encode wrote %d bytes, want 160", n)
		}
		for i := range frame {
			if frame[i] != whole[off+i] {
				t.Fatalf("frame at %d: byte %d differs from the one-shot run", off, i)
			}
		}
		if n := dec.Decode(pcm, frame); n != 160 {
			t.Fatalf("Decode wrote %d samples, want 160", n)
		}
		for i := range pcm {
			if pcm[i] != wholePCM[off+i] {
				t.Fatalf("frame at %d: sample %d differs from the one-shot run", off, i)
			}
		}
	}

	// The same with odd frame sizes.
	enc.Reset()
	dec.Reset()
	var got []int16
	for off, k := 0, 0; off < len(in); k++ {
		n := min([]int{1, 7, 160, 33, 0, 480}[k%6], len(in)-off)
		b := make([]byte, n)
		enc.Encode(b, in[off:off+n])
		p := make([]int16, n)
		dec.Decode(p, b)
		got = append(got, p...)
		off += n
	}
	for i := range got {
		if got[i] != wholePCM[i] {
			t.Fatalf("odd-sized frames: sample %d differs", i)
		}
	}
}

// Frame boundaries do not click: processing a tone in 20 ms frames, no
// step between neighbouring output samples (at a frame boundary or not)
// exceeds what the tone itself has, plus a little for coding noise.
func TestNarrowNoClickAtFrameBoundaries(t *testing.T) {
	const amp, f = 12000.0, 1013.0 // not a divisor of 8 kHz: frame edges fall on every phase
	in := tone(16000, 8000, []float64{f}, []float64{amp})
	enc, dec := NewNarrowEncoder(), NewNarrowDecoder()
	out := make([]int16, 0, len(in))
	frame := make([]byte, 160)
	pcm := make([]int16, 160)
	for off := 0; off < len(in); off += 160 {
		enc.Encode(frame, in[off:off+160])
		dec.Decode(pcm, frame)
		out = append(out, pcm...)
	}
	ideal := 2 * amp * math.Sin(math.Pi*f/8000) // largest step of the tone
	bound := int(ideal*1.05) + 200              // coding noise adds to the steps
	var worst, worstEdge int
	for i := settle8; i < len(out); i++ {
		step := abs(int(out[i]) - int(out[i-1]))
		worst = max(worst, step)
		if i%160 == 0 {
			worstEdge = max(worstEdge, step)
		}
	}
	t.Logf("max step %d (at frame edges %d), tone's own %.0f", worst, worstEdge, ideal)
	if worst > bound {
		t.Errorf("max sample-to-sample step %d > %d", worst, bound)
	}
	if worstEdge > bound {
		t.Errorf("step at a frame boundary %d > %d", worstEdge, bound)
	}
}

// The interpolator suppresses the 8 kHz sampling images: a 1 kHz tone
// encoded by NarrowEncoder and decoded at 16 kHz has no 7 kHz image.
func TestNarrowEncoderImages(t *testing.T) {
	in := tone(8000, 8000, []float64{1000}, []float64{16000})
	code := make([]byte, len(in))
	NewNarrowEncoder().Encode(code, in)
	wide := make([]int16, 2*len(code))
	NewDecoder().Decode(wide, code)
	seg := wide[2*settle8:]
	rej := 10 * math.Log10(goertzel(seg, 1000, 16000)/goertzel(seg, 7000, 16000))
	t.Logf("7 kHz image %.1f dB below the 1 kHz tone", rej)
	if rej < 55 {
		t.Errorf("7 kHz image only %.1f dB down, want ≥ 55", rej)
	}
}

// The decimator is an anti-alias filter: a 6 kHz tone in a wideband
// stream, which would fold to 2 kHz, is removed by NarrowDecoder.
func TestNarrowDecoderAntiAlias(t *testing.T) {
	in := tone(16000, 16000, []float64{6000}, []float64{16000})
	code := make([]byte, len(in)/2)
	NewEncoder().Encode(code, in)
	out := make([]int16, len(code))
	NewNarrowDecoder().Decode(out, code)
	// Power of the 2 kHz alias against that of the tone's own amplitude
	// (a sine of amplitude A over N samples gives (A·N/2)² in goertzel).
	seg := out[settle8:]
	ref := 16000 * float64(len(seg)) / 2
	rej := 10 * math.Log10(ref*ref/goertzel(seg, 2000, 8000))
	t.Logf("6 kHz tone's 2 kHz alias %.1f dB down", rej)
	if rej < 55 {
		t.Errorf("6 kHz tone aliases to 2 kHz only %.1f dB down, want ≥ 55", rej)
	}
}

// The half-band filter meets its design: flat passband to 3.4 kHz,
// ≥ 60 dB stopband from 4.6 kHz (at 16 kHz), exactly 1/2 at 4 kHz.
func TestHalfBandResponse(t *testing.T) {
	resp := func(f float64) float64 {
		w := 2 * math.Pi * f / 16000
		// Zero-phase response: 1/2 + Σ 2 h_j cos((2j+1)ω).
		v := 0.5
		for j, c := range halfBand {
			v += 2 * float64(c) / 32768 * math.Cos(float64(2*j+1)*w)
		}
		return v
	}
	var ripple, stop float64
	for f := 0.0; f <= 3400; f += 5 {
		ripple = max(ripple, math.Abs(20*math.Log10(math.Abs(resp(f)))))
	}
	for f := 4600.0; f <= 8000; f += 5 {
		stop = max(stop, math.Abs(resp(f)))
	}
	att := -20 * math.Log10(stop)
	t.Logf("passband ripple ±%.4f dB, stopband %.1f dB", ripple, att)
	if ripple > 0.01 {
		t.Errorf("passband ripple %.4f dB > 0.01", ripple)
	}
	if att < 60 {
		t.Errorf("stopband attenuation %.1f dB < 60", att)
	}
	if math.Abs(resp(4000)-0.5) > 1e-12 {
		t.Errorf("response at 4 kHz %v, want 0.5", resp(4000))
	}
	if halfBandTaps != 4*len(halfBand)-1 {
		t.Errorf("halfBandTaps %d inconsistent with %d taps", halfBandTaps, len(halfBand))
	}
}

func TestNarrowResetAndZeroValue(t *testing.T) {
	in := tone(1600, 8000, []float64{700}, []float64{9000})
	want := make([]byte, len(in))
	NewNarrowEncoder().Encode(want, in)
	var e NarrowEncoder
	got := make([]byte, len(in))
	e.Encode(got, noise(1600, 4, 30000))
	e.Reset()
	e.Encode(got, in)
	if string(got) != string(want) {
		t.Error("NarrowEncoder after Reset differs from a new one")
	}
	wantPCM := make([]int16, len(in))
	NewNarrowDecoder().Decode(wantPCM, want)
	var d NarrowDecoder
	d.Decode(make([]int16, len(in)), []byte("arbitrary bytes to disturb the state"))
	d.Reset()
	out := make([]int16, len(in))
	d.Decode(out, want)
	for i := range out {
		if out[i] != wantPCM[i] {
			t.Fatalf("NarrowDecoder after Reset differs at sample %d", i)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	pcm16 := tone(320, 16000, []float64{1000}, []float64{8000})
	pcm8 := tone(160, 8000, []float64{1000}, []float64{8000})
	buf := make([]byte, 160)
	out := make([]int16, 320)
	e, d := NewEncoder(), NewDecoder()
	ne, nd := NewNarrowEncoder(), NewNarrowDecoder()
	for name, f := range map[string]func(){
		"Encode":       func() { e.Encode(buf, pcm16) },
		"Decode":       func() { d.Decode(out, buf) },
		"NarrowEncode": func() { ne.Encode(buf, pcm8) },
		"NarrowDecode": func() { nd.Decode(out[:160], buf) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocations per 20 ms frame", name, a)
		}
	}
}
