package dtmf

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// talkOffSentences are read by espeak-ng for the talk-off test: ordinary
// speech, numbers, and words rich in the steady vowels and nasals that are
// most likely to imitate two tones.
var talkOffSentences = []string{
	"Thank you for calling. Please hold while we connect you to the next available agent.",
	"Your account number is four five six, seven eight nine, zero one two three.",
	"Press one for sales, two for support, or star to return to the main menu. Dial pound when you are done.",
	"The quick brown fox jumps over the lazy dog, while nine hundred and ninety nine mice sing along.",
	"Ooooh, eeee, aaaah, mmmmm, nnnnn. Hello? Hello? Can you hear me now? Yes, I can hear you clearly.",
	"Seven, eleven, twenty one, one hundred and one, two thousand and twenty six, sixty six point six.",
	"Meeting on Monday at ten thirty. Please bring the quarterly numbers and the revised plan.",
}

// espeakVoices vary the voice and pitch so that fundamentals and formants
// sweep a wide range.
var espeakVoices = []struct{ voice, pitch, speed string }{
	{"en-us", "50", "160"},
	{"en-gb", "20", "140"},
	{"en-us+f3", "70", "170"},
	{"en-us+f5", "99", "120"},
	{"en-gb+m3", "0", "180"},
	{"en-us+klatt", "60", "150"},
}

// espeakBinary returns espeak-ng's path, skipping the test when it is not
// installed (or in -short mode) unless REQUIRE_TEST_PEERS=1.
func espeakBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() && os.Getenv(testpeer.RequirePeersEnv) != "1" {
		t.Skip("-short: not running espeak-ng")
	}
	return testpeer.Binary(t, "TEST_ESPEAK", "espeak-ng", "apt-get install espeak-ng")
}

// speech synthesises text at SampleRate.
func speech(t testing.TB, bin, voice, pitch, speed, text string) []int16 {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "--stdout", "-v", voice, "-p", pitch, "-s", speed, text)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("espeak-ng -v %s: %v: %s", voice, err, errb.Bytes())
	}
	pcm, rate := parseWAV(t, out.Bytes())
	return resample(pcm, rate)
}

func TestTalkOffSpeech(t *testing.T) {
	bin := espeakBinary(t)
	total := 0
	for _, v := range espeakVoices {
		for _, s := range talkOffSentences {
			pcm := speech(t, bin, v.voice, v.pitch, v.speed, s)
			total += len(pcm)
			// As synthesised, loud (peak -1 dBFS) and quiet (peak -20 dBm0).
			for _, sig := range [][]int16{pcm, scaleTo(pcm, 29000), scaleTo(pcm, amp(-20))} {
				if got := digits(t, sig); got != "" {
					t.Errorf("voice %s pitch %s: detected %q in %q", v.voice, v.pitch, got, s)
				}
			}
		}
	}
	t.Logf("%.1f s of speech at 3 levels, no digit", float64(total)/SampleRate)
	if total < 60*SampleRate {
		t.Fatalf("only %d samples of speech", total)
	}
}

// note is a tone with harmonics at fundamental f: partial k has amplitude
// 1/k^roll, with a decaying envelope and optional vibrato.
func note(f float64, harmonics int, roll, vibrato float64, n int, peak float64) []float64 {
	s := make([]float64, n)
	for k := 1; k <= harmonics && float64(k)*f < 3800; k++ {
		a := 1 / math.Pow(float64(k), roll)
		var ph float64
		for i := range s {
			fi := float64(k) * f * (1 + vibrato*math.Sin(2*math.Pi*5.5*float64(i)/SampleRate))
			ph += 2 * math.Pi * fi / SampleRate
			env := math.Min(1, float64(i)/80) * math.Exp(-2*float64(i)/float64(n))
			s[i] += peak * a * env * math.Sin(ph)
		}
	}
	return s
}

func mix(dst []float64, src []float64) {
	for i := range min(len(dst), len(src)) {
		dst[i] += src[i]
	}
}

func toPCM(x []float64) []int16 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = clip(v / m * 26000)
	}
	return out
}

func TestTalkOffMusic(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	semitone := math.Pow(2, 1.0/12)
	var sig []int16
	// Chords (triads and sevenths) over several octaves, with rich and
	// mellow timbres, with and without vibrato.
	for range 120 {
		root := 110 * math.Pow(semitone, float64(rng.IntN(48)))
		steps := [][]int{{0, 4, 7}, {0, 3, 7}, {0, 4, 7, 10}, {0, 5, 9}, {0, 7}, {0, 12}}[rng.IntN(6)]
		n := ms(150 + rng.Float64()*400)
		x := make([]float64, n)
		for _, st := range steps {
			mix(x, note(root*math.Pow(semitone, float64(st)), 3+rng.IntN(6), 0.5+rng.Float64()*1.5,
				rng.Float64()*0.006, n, 1))
		}
		sig = append(sig, toPCM(x)...)
	}
	// A melody of single notes, each note's partials harmonic.
	for range 150 {
		f := 220 * math.Pow(semitone, float64(rng.IntN(36)))
		sig = append(sig, toPCM(note(f, 2+rng.IntN(6), 1, 0.004, ms(80+rng.Float64()*200), 1))...)
	}
	// Sweeps: a sine, slow and fast, up and down across the band; slow
	// glides of harmonic-rich tones (sirens, slides); two sines gliding
	// at once, fast. (Two pure sines gliding slowly enough to stay within
	// tolerance of a DTMF pair for 33 ms, below about 1.5 kHz/s, are a
	// valid DTMF signal.)
	for _, sw := range []struct {
		from, to, secs float64
		harmonics      int
	}{
		{200, 3600, 2, 1}, {3600, 200, 2, 1}, {200, 3600, 0.5, 1}, {3400, 300, 0.5, 1},
		{250, 1000, 3, 4}, {1200, 300, 3, 6}, {500, 900, 2, 3},
	} {
		x := make([]float64, ms(sw.secs*1000))
		var ph float64
		for i := range x {
			ph += 2 * math.Pi * (sw.from + (sw.to-sw.from)*float64(i)/float64(len(x))) / SampleRate
			for k := 1; k <= sw.harmonics; k++ {
				x[i] += math.Sin(float64(k)*ph) / float64(k)
			}
		}
		sig = append(sig, toPCM(x)...)
	}
	for _, sw := range [][5]float64{{300, 3300, 3300, 300, 1.5}, {1000, 400, 1100, 2200, 0.25}, {500, 1000, 1000, 1800, 0.2}} {
		x := make([]float64, ms(sw[4]*1000))
		var p1, p2 float64
		for i := range x {
			r := float64(i) / float64(len(x))
			p1 += 2 * math.Pi * (sw[0] + (sw[1]-sw[0])*r) / SampleRate
			p2 += 2 * math.Pi * (sw[2] + (sw[3]-sw[2])*r) / SampleRate
			x[i] = math.Sin(p1) + math.Sin(p2)
		}
		sig = append(sig, toPCM(x)...)
	}
	if got := digits(t, sig); got != "" {
		t.Errorf("detected %q in %.0f s of music", got, float64(len(sig))/SampleRate)
	}
	t.Logf("%.0f s of music, no digit", float64(len(sig))/SampleRate)
}
