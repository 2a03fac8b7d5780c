package dtmf

import (
	"math"
	"slices"
	"testing"
	"time"
)

// sineAmplitude estimates the amplitude of freq in x (Goertzel).
func sineAmplitude(x []int16, freq float64) float64 {
	c := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	return 2 * math.Sqrt(s1*s1+s2*s2-c*s1*s2) / float64(len(x))
}

func TestGenerate(t *testing.T) {
	for i := range len(Keypad) {
		d := Keypad[i]
		pcm := Generate(d, 100*time.Millisecond)
		if len(pcm) != 800 {
			t.Fatalf("%c: %d samples, want 800", d, len(pcm))
		}
		r, c, _ := position(d)
		// 800 samples hold a whole number of cycles of no DTMF frequency,
		// so measure over a steady stretch long enough to resolve them.
		mid := pcm[rampLen : len(pcm)-rampLen]
		lo, hi := sineAmplitude(mid, freqs[r]), sineAmplitude(mid, freqs[4+c])
		if math.Abs(20*math.Log10(lo/amp(-9))) > 0.3 || math.Abs(20*math.Log10(hi/amp(-7))) > 0.3 {
			t.Errorf("%c: amplitudes %.0f / %.0f, want %.0f / %.0f", d, lo, hi, amp(-9), amp(-7))
		}
		for _, f := range freqs {
			if f != freqs[r] && f != freqs[4+c] && sineAmplitude(mid, f) > lo/20 {
				t.Errorf("%c: energy at %v Hz", d, f)
			}
		}
		if pcm[0] != 0 || math.Abs(float64(pcm[1])) > 1000 || math.Abs(float64(pcm[len(pcm)-1])) > 1000 {
			t.Errorf("%c: no ramp: starts %v ends %v", d, pcm[:2], pcm[len(pcm)-1])
		}
	}
	if g := GenerateLevels('5', 50*time.Millisecond, Levels{Low: -20, High: -10}); len(g) != 400 {
		t.Fatalf("GenerateLevels: %d samples", len(g))
	} else if lo, hi := sineAmplitude(g[100:], 770), sineAmplitude(g[100:], 1336); math.Abs(20*math.Log10(hi/lo)-10) > 0.5 {
		t.Errorf("GenerateLevels: %.0f / %.0f, want 10 dB apart", lo, hi)
	}
	if Generate('x', time.Second) != nil || Generate('E', time.Second) != nil {
		t.Error("invalid digit generated")
	}
	if !slices.Equal(Generate('a', 30*time.Millisecond), Generate('A', 30*time.Millisecond)) {
		t.Error("'a' differs from 'A'")
	}
	if g := Generate('1', -time.Second); len(g) != 0 {
		t.Errorf("negative duration: %d samples", len(g))
	}
	for _, c := range []byte("0123456789*#ABCDabcd") {
		if !ValidDigit(c) {
			t.Errorf("ValidDigit(%q) = false", c)
		}
	}
	for _, c := range []byte("Ee,p+ \x00") {
		if ValidDigit(c) {
			t.Errorf("ValidDigit(%q) = true", c)
		}
	}
}

func TestGenerateSequence(t *testing.T) {
	seq := GenerateSequence("12#", 100*time.Millisecond, 60*time.Millisecond)
	if len(seq) != 3*800+2*480 {
		t.Fatalf("%d samples", len(seq))
	}
	for i, d := range []byte("12#") {
		at := i * 1280
		if !slices.Equal(seq[at:at+800], Generate(d, 100*time.Millisecond)) {
			t.Errorf("digit %d differs from Generate", i)
		}
		if i < 2 && slices.ContainsFunc(seq[at+800:at+1280], func(s int16) bool { return s != 0 }) {
			t.Errorf("gap %d is not silent", i)
		}
	}
	if GenerateSequence("12x", time.Second, time.Second) != nil {
		t.Error("invalid digit accepted")
	}
	if s := GenerateSequence("", time.Second, time.Second); s == nil || len(s) != 0 {
		t.Errorf("empty sequence: %v", s)
	}
}

func TestTone(t *testing.T) {
	want := Generate('9', 100*time.Millisecond)
	tn, ok := NewTone('9', 800, DefaultLevels)
	if !ok {
		t.Fatal("NewTone failed")
	}
	got := make([]int16, 0, 800)
	for _, n := range []int{1, 159, 160, 300, 500} {
		buf := make([]int16, n)
		k := tn.Add(buf)
		got = append(got, buf[:k]...)
	}
	if !slices.Equal(got, want) || !tn.Done() {
		t.Fatalf("chunked Tone differs from Generate (done %v, %d samples)", tn.Done(), len(got))
	}
	// Add mixes and saturates.
	loud := make([]int16, 400)
	for i := range loud {
		loud[i] = 30000
	}
	tn, _ = NewTone('D', 400, Levels{Low: 0, High: 0})
	tn.Add(loud)
	if slices.Min(loud) < -32768+4000 || slices.Max(loud) != 32767 {
		t.Errorf("no saturation: min %d max %d", slices.Min(loud), slices.Max(loud))
	}
	var zero Tone
	if !zero.Done() || zero.Add(make([]int16, 10)) != 0 {
		t.Error("zero Tone is not finished")
	}
	if _, ok := NewTone('?', 10, DefaultLevels); ok {
		t.Error("NewTone accepted '?'")
	}
}
