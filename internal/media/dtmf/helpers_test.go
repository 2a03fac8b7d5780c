package dtmf

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Test signals are synthesised here with math.Sin, independently of the
// package's generator.

// ms converts milliseconds to samples.
func ms(n float64) int { return int(math.Round(n * SampleRate / 1000)) }

// amp is the peak amplitude of a sine at dBm0.
func amp(dBm0 float64) float64 { return refAmplitude * math.Pow(10, dBm0/20) }

// dual returns n samples of two sines (Hz, dBm0, start phase in radians).
func dual(f1, l1, p1, f2, l2, p2 float64, n int) []int16 {
	a1, a2 := amp(l1), amp(l2)
	s := make([]int16, n)
	for i := range s {
		t := float64(i) / SampleRate
		s[i] = clip(a1*math.Sin(2*math.Pi*f1*t+p1) + a2*math.Sin(2*math.Pi*f2*t+p2))
	}
	return s
}

// digitTone returns n samples of digit with the given frequency deviations
// (fractions) and levels; phases are random.
func digitTone(rng *rand.Rand, digit byte, devLow, devHigh, low, high float64, n int) []int16 {
	r, c, ok := position(digit)
	if !ok {
		panic("bad digit")
	}
	return dual(freqs[r]*(1+devLow), low, rng.Float64()*2*math.Pi,
		freqs[4+c]*(1+devHigh), high, rng.Float64()*2*math.Pi, n)
}

func clip(v float64) int16 {
	return int16(max(min(math.Round(v), math.MaxInt16), math.MinInt16))
}

func silence(n int) []int16 { return make([]int16, n) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// addNoise adds white Gaussian noise of the given mean power.
func addNoise(rng *rand.Rand, pcm []int16, power float64) []int16 {
	sd := math.Sqrt(power)
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = clip(float64(s) + sd*rng.NormFloat64())
	}
	return out
}

func meanPower(pcm []int16) float64 {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return e / float64(len(pcm))
}

// detectFrames runs a fresh detector over pcm in frames of n samples (the
// last one may be shorter) and returns its events.
func detectFrames(pcm []int16, n int) []Event {
	var d Detector
	var evs []Event
	emit := func(e Event) { evs = append(evs, e) }
	for len(pcm) > 0 {
		k := min(n, len(pcm))
		d.Process(pcm[:k], emit)
		pcm = pcm[k:]
	}
	// Flush with silence so that the last digit ends.
	d.Process(silence(ms(100)), emit)
	return evs
}

// detect runs a fresh detector in 20 ms frames.
func detect(pcm []int16) []Event { return detectFrames(pcm, 160) }

// onsets lists the digits reported at onset, checking that onsets and
// ends alternate and match.
func onsets(t testing.TB, evs []Event) string {
	t.Helper()
	var b strings.Builder
	var open byte
	for _, e := range evs {
		switch {
		case !e.End && open == 0:
			open = e.Digit
			b.WriteByte(e.Digit)
		case e.End && open == e.Digit:
			open = 0
		default:
			t.Fatalf("event sequence out of order: %+v", evs)
		}
	}
	if open != 0 {
		t.Fatalf("digit %c never ended: %+v", open, evs)
	}
	return b.String()
}

func digits(t testing.TB, pcm []int16) string { return onsets(t, detect(pcm)) }

// parseWAV returns the mono 16-bit samples and rate of a RIFF WAVE file. A
// streaming WAV (as espeak-ng writes to stdout) has a bogus data size: the
// data runs to the end.
func parseWAV(t testing.TB, b []byte) ([]int16, int) {
	t.Helper()
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("not a WAV file")
	}
	rate, channels, bits := 0, 0, 0
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		switch id {
		case "fmt ":
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if channels != 1 || bits != 16 {
				t.Fatalf("WAV is %d channels of %d bits, want mono 16-bit", channels, bits)
			}
			if size > len(body) || size == 0 {
				size = len(body)
			}
			s := make([]int16, size/2)
			for i := range s {
				s[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return s, rate
		}
		p += 8 + size + size%2
	}
	t.Fatalf("WAV has no data chunk")
	return nil, 0
}

// resample converts pcm from rate to SampleRate: a windowed-sinc low-pass
// at 3.6 kHz, then linear interpolation at the new sampling instants.
func resample(pcm []int16, rate int) []int16 {
	const taps = 63
	cut := 3600.0 / float64(rate)
	var h [taps]float64
	var sum float64
	for i := range h {
		x := float64(i - taps/2)
		v := 2 * cut
		if x != 0 {
			v = math.Sin(2*math.Pi*cut*x) / (math.Pi * x)
		}
		h[i] = v * (0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/(taps-1))) // Hamming
		sum += h[i]
	}
	f := make([]float64, len(pcm))
	for i := range f {
		var acc float64
		for k, c := range h {
			if j := i + k - taps/2; j >= 0 && j < len(pcm) {
				acc += c * float64(pcm[j])
			}
		}
		f[i] = acc / sum
	}
	n := int(int64(len(pcm)) * SampleRate / int64(rate))
	out := make([]int16, n)
	step := float64(rate) / SampleRate
	for i := range out {
		x := float64(i) * step
		j := int(x)
		if j+1 >= len(f) {
			break
		}
		fr := x - float64(j)
		out[i] = clip(f[j]*(1-fr) + f[j+1]*fr)
	}
	return out
}

// scaleTo scales pcm so that its peak is at peak.
func scaleTo(pcm []int16, peak float64) []int16 {
	var m float64
	for _, s := range pcm {
		m = max(m, math.Abs(float64(s)))
	}
	out := make([]int16, len(pcm))
	if m == 0 {
		return out
	}
	for i, s := range pcm {
		out[i] = clip(float64(s) * peak / m)
	}
	return out
}

func dur(n int) time.Duration { return time.Duration(n) * time.Second / SampleRate }
