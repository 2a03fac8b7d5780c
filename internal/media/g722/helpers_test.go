package g722

import (
	"math"
	"testing"
)

// tone returns n samples of Σ amps[i]·sin(2π·freqs[i]·t) at rate Hz.
func tone(n int, rate float64, freqs, amps []float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		var v float64
		for k, f := range freqs {
			v += amps[k] * math.Sin(2*math.Pi*f*float64(i)/rate)
		}
		out[i] = int16(math.Round(max(min(v, 32767), -32768)))
	}
	return out
}

// snr is the ratio, in dB, of the power of ref[i] to the power of
// got[i+delay]-ref[i], over i in [skip, len(ref)-delay).
func snr(ref, got []int16, delay, skip int) float64 {
	var sig, noise float64
	for i := skip; i+delay < len(got) && i < len(ref); i++ {
		r := float64(ref[i])
		e := float64(got[i+delay]) - r
		sig += r * r
		noise += e * e
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

// goertzel returns the power of x at frequency f (rate Hz): about
// (A·N/2)² for a sine of amplitude A at f over N = len(x) samples.
func goertzel(x []int16, f, rate float64) float64 {
	w := 2 * math.Pi * f / rate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// dominant returns the frequency with the most power among a grid of
// candidates spaced step Hz apart from step up to rate/2.
func dominant(x []int16, rate, step float64) float64 {
	best, bestF := -1.0, 0.0
	for f := step; f < rate/2; f += step {
		if p := goertzel(x, f, rate); p > best {
			best, bestF = p, f
		}
	}
	return bestF
}

func encodeDecode16(t *testing.T, in []int16) []int16 {
	t.Helper()
	code := make([]byte, len(in)/2)
	if n := NewEncoder().Encode(code, in); n != len(code) {
		t.Fatalf("Encode wrote %d bytes, want %d", n, len(code))
	}
	out := make([]int16, len(in))
	if n := NewDecoder().Decode(out, code); n != len(out) {
		t.Fatalf("Decode wrote %d samples, want %d", n, len(out))
	}
	return out
}

func narrowRoundTrip(t *testing.T, in []int16) []int16 {
	t.Helper()
	code := make([]byte, len(in))
	if n := NewNarrowEncoder().Encode(code, in); n != len(code) {
		t.Fatalf("NarrowEncoder wrote %d bytes, want %d", n, len(code))
	}
	out := make([]int16, len(in))
	if n := NewNarrowDecoder().Decode(out, code); n != len(out) {
		t.Fatalf("NarrowDecoder wrote %d samples, want %d", n, len(out))
	}
	return out
}
