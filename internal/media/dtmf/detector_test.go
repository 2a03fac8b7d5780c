package dtmf

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestEveryDigitOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range len(Keypad) {
		d := Keypad[i]
		for _, pcm := range [][]int16{
			Generate(d, 100*time.Millisecond),
			digitTone(rng, d, 0, 0, -6, -6, ms(70)),
		} {
			sig := concat(silence(ms(30)), pcm, silence(ms(30)))
			if got := digits(t, sig); got != string(d) {
				t.Errorf("digit %c: detected %q", d, got)
			}
		}
	}
	seq := GenerateSequence(Keypad+"0123456789*#ABCD", 60*time.Millisecond, 50*time.Millisecond)
	if got := digits(t, seq); got != Keypad+"0123456789*#ABCD" {
		t.Errorf("sequence: detected %q", got)
	}
	if got := digits(t, GenerateSequence("abcd", 50*time.Millisecond, 50*time.Millisecond)); got != "ABCD" {
		t.Errorf("lower-case letters: detected %q", got)
	}
}

// alignments runs fn for tones starting at every sample offset within
// one analysis hop, after some silence.
func alignments(fn func(lead []int16)) {
	for off := range hop {
		fn(silence(ms(30) + off))
	}
}

func TestDurationLimits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		millis float64
		want   bool
	}{{40, true}, {42, true}, {50, true}, {22, false}, {20, false}, {15, false}} {
		for _, d := range []byte("1#D0") {
			alignments(func(lead []int16) {
				sig := concat(lead, digitTone(rng, d, 0, 0, -9, -7, ms(tc.millis)), silence(ms(40)))
				got := digits(t, sig)
				if (got == string(d)) != tc.want || (!tc.want && got != "") {
					t.Errorf("%v ms of %c after %d samples: detected %q", tc.millis, d, len(lead), got)
				}
			})
		}
	}
}

func TestFrequencyTolerance(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		low, high float64
		want      bool
	}{
		{0.015, 0.015, true}, {-0.015, -0.015, true}, {0.015, -0.015, true}, {-0.015, 0.015, true},
		{0.035, 0, false}, {-0.035, 0, false}, {0, 0.035, false}, {0, -0.035, false},
		{0.035, 0.035, false}, {-0.035, -0.035, false}, {0.05, 0, false}, {0, -0.06, false},
	} {
		for i := range len(Keypad) {
			d := Keypad[i]
			sig := concat(silence(ms(20)), digitTone(rng, d, tc.low, tc.high, -9, -7, ms(60)), silence(ms(20)))
			got := digits(t, sig)
			if (tc.want && got != string(d)) || (!tc.want && got != "") {
				t.Errorf("%c at %+.1f%%/%+.1f%%: detected %q", d, tc.low*100, tc.high*100, got)
			}
		}
	}
}

func TestTwist(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	// twist = low level - high level: positive is normal, negative reverse.
	for _, tc := range []struct {
		twist float64
		want  bool
	}{{8, true}, {6, true}, {0, true}, {-4, true}, {-2, true}, {10, false}, {12, false}, {-6, false}, {-8, false}} {
		low, high := -6+tc.twist/2, -6-tc.twist/2
		for i := range len(Keypad) {
			d := Keypad[i]
			sig := concat(silence(ms(20)), digitTone(rng, d, 0, 0, low, high, ms(60)), silence(ms(20)))
			got := digits(t, sig)
			if (tc.want && got != string(d)) || (!tc.want && got != "") {
				t.Errorf("%c with twist %+v dB: detected %q", d, tc.twist, got)
			}
		}
	}
}

func TestLevels(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct {
		level float64
		want  bool
	}{{-3, true}, {-15, true}, {-25, true}, {-28, true}, {-33, false}, {-40, false}, {-55, false}} {
		for _, d := range []byte("2580") {
			sig := concat(silence(ms(20)), digitTone(rng, d, 0, 0, tc.level, tc.level, ms(60)), silence(ms(20)))
			got := digits(t, sig)
			if (tc.want && got != string(d)) || (!tc.want && got != "") {
				t.Errorf("%c at %v dBm0 per tone: detected %q", d, tc.level, got)
			}
		}
	}
}

func TestPausesAndDropouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		name  string
		gap   float64 // ms of silence between two 60 ms tones of the same digit
		tones string
	}{
		{"40 ms pause separates", 40, "55"},
		{"60 ms pause separates", 60, "55"},
		{"8 ms dropout does not split", 8, "5"},
		{"5 ms dropout does not split", 5, "5"},
		{"lost 20 ms packet does not split", 20, "5"},
	} {
		for _, d := range []byte("5#A") {
			want := ""
			for range tc.tones {
				want += string(d)
			}
			alignments(func(lead []int16) {
				sig := concat(lead, digitTone(rng, d, 0, 0, -9, -7, ms(60)), silence(ms(tc.gap)),
					digitTone(rng, d, 0, 0, -9, -7, ms(60)), silence(ms(40)))
				if got := digits(t, sig); got != want {
					t.Errorf("%s: %c after %d samples: detected %q, want %q", tc.name, d, len(lead), got, want)
				}
			})
		}
	}
	// Different digits without any pause are still both reported.
	sig := concat(silence(ms(20)), digitTone(rng, '1', 0, 0, -9, -7, ms(80)), digitTone(rng, '9', 0, 0, -9, -7, ms(80)))
	if got := digits(t, sig); got != "19" {
		t.Errorf("back-to-back 1 and 9: detected %q", got)
	}
}

func TestReportedDurations(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, millis := range []float64{50, 100, 250} {
		sig := concat(silence(ms(17)), digitTone(rng, '7', 0, 0, -9, -7, ms(millis)), silence(ms(50)))
		evs := detect(sig)
		if len(evs) != 2 || evs[0].End || !evs[1].End {
			t.Fatalf("%v ms: events %+v", millis, evs)
		}
		if evs[0].Duration < 30*time.Millisecond || evs[0].Duration > 40*time.Millisecond {
			t.Errorf("%v ms: onset duration %v", millis, evs[0].Duration)
		}
		want := time.Duration(millis * float64(time.Millisecond))
		if d := evs[1].Duration - want; d < -8*time.Millisecond || d > 12*time.Millisecond {
			t.Errorf("%v ms: end duration %v", millis, evs[1].Duration)
		}
	}
}

func TestFrameSizes(t *testing.T) {
	sig := concat(silence(ms(10)), GenerateSequence("147*2580369#", 50*time.Millisecond, 45*time.Millisecond))
	want := detectFrames(sig, 160)
	if onsets(t, want) != "147*2580369#" {
		t.Fatalf("detected %q", onsets(t, want))
	}
	for _, n := range []int{1, 7, 40, 80, 106, 333, len(sig)} {
		got := detectFrames(sig, n)
		if len(got) != len(want) {
			t.Fatalf("frames of %d: %d events, want %d", n, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("frames of %d: event %d is %+v, want %+v", n, i, got[i], want[i])
			}
		}
	}
}

func TestReset(t *testing.T) {
	var d Detector
	var got []Event
	d.Process(Generate('3', 60*time.Millisecond), func(e Event) { got = append(got, e) })
	if len(got) != 1 {
		t.Fatalf("events %+v", got)
	}
	d.Reset()
	d.Process(silence(800), func(e Event) { got = append(got, e) })
	if len(got) != 1 {
		t.Fatalf("end reported after Reset: %+v", got)
	}
	d.Process(Generate('3', 60*time.Millisecond), nil) // nil emit is allowed
}

// sines adds sines (Hz, dBm0) to pcm.
func sines(pcm []int16, tones ...[2]float64) []int16 {
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		v := float64(s)
		for _, tn := range tones {
			v += amp(tn[1]) * math.Sin(2*math.Pi*tn[0]*float64(i)/SampleRate+tn[0])
		}
		out[i] = clip(v)
	}
	return out
}

func TestOtherEnergyAndHarmonics(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, tc := range []struct {
		name  string
		digit byte
		extra [][2]float64
		want  bool
	}{
		{"weak third tone", '5', [][2]float64{{500, -20}}, true},
		{"third tone as loud", '5', [][2]float64{{500, -8}}, false},
		{"second row tone 6 dB down", '5', [][2]float64{{852, -14}}, false},
		{"second column tone 6 dB down", '5', [][2]float64{{1477, -12}}, false},
		{"2nd harmonics 20 dB down", '#', [][2]float64{{2 * 941, -29}, {2 * 1477, -27}}, true},
		{"low 2nd harmonic 10 dB down", '#', [][2]float64{{2 * 941, -19}}, false},
		{"high 2nd harmonic 10 dB down", '1', [][2]float64{{2 * 1209, -17}}, false},
	} {
		sig := concat(silence(ms(20)), sines(digitTone(rng, tc.digit, 0, 0, -9, -7, ms(80)), tc.extra...), silence(ms(20)))
		got := digits(t, sig)
		if (tc.want && got != string(tc.digit)) || (!tc.want && got != "") {
			t.Errorf("%s: detected %q", tc.name, got)
		}
	}
	// A note and its octave near a DTMF pair (834 + 1668 Hz are 2.1% off
	// "C", within tolerance) is music, not a digit; a real "C" 1.5% off is
	// a digit.
	note := dual(834, -9, 0, 1668, -9, 0, ms(200))
	if got := digits(t, concat(silence(ms(20)), note, silence(ms(20)))); got != "" {
		t.Errorf("octave 834+1668 Hz: detected %q", got)
	}
	if got := digits(t, concat(silence(ms(20)), dual(834, -9, 0, 1650, -9, 0, ms(200)), silence(ms(20)))); got != "C" {
		t.Errorf("834+1650 Hz: detected %q", got)
	}
	c := dual(852*0.985, -9, 0, 1633*1.015, -9, 0, ms(200))
	if got := digits(t, concat(silence(ms(20)), c, silence(ms(20)))); got != "C" {
		t.Errorf("C at -1.5%%/+1.5%%: detected %q", got)
	}
}

// FuzzDetector feeds arbitrary PCM in arbitrary chunks: events must be
// valid digits, onsets and ends must alternate, and nothing may panic.
func FuzzDetector(f *testing.F) {
	f.Add([]byte{7}, []byte{0, 1, 2, 3})
	f.Add([]byte{160, 3, 40}, func() []byte {
		pcm := concat(Generate('5', 60*time.Millisecond), silence(400), Generate('D', 50*time.Millisecond))
		b := make([]byte, 2*len(pcm))
		for i, s := range pcm {
			b[2*i], b[2*i+1] = byte(s), byte(s>>8)
		}
		return b
	}())
	f.Fuzz(func(t *testing.T, chunks, data []byte) {
		pcm := make([]int16, len(data)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
		}
		var d Detector
		var open byte
		emit := func(e Event) {
			switch {
			case !ValidDigit(e.Digit) || e.Digit >= 'a':
				t.Fatalf("invalid digit %q", e.Digit)
			case !e.End && open == 0:
				open = e.Digit
			case e.End && open == e.Digit:
				open = 0
			default:
				t.Fatalf("event %+v with %q open", e, open)
			}
		}
		for i := 0; len(pcm) > 0; i++ {
			n := len(pcm)
			if len(chunks) > 0 {
				n = min(n, int(chunks[i%len(chunks)])+1)
			}
			d.Process(pcm[:n], emit)
			pcm = pcm[n:]
		}
	})
}
