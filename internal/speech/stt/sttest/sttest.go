// Package sttest makes the audio that the speech-recognition tests listen
// to: utterances synthesized by espeak-ng (run as a separate process),
// resampled to 8 kHz and passed through G.711 µ-law like a phone line;
// silence, white noise at a chosen level or SNR, and clicks; plus word
// error rate. It is for tests only.
package sttest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/audio"
	"github.com/switchboard-oss/switchboard/internal/media/g711"
	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// Rate is the telephony sample rate everything here produces.
const Rate = 8000

// FrameSize is one 20 ms frame at Rate.
const FrameSize = 160

// Espeak returns espeak-ng's path. It skips the test in -short mode or
// when espeak-ng is missing, unless REQUIRE_TEST_PEERS=1 (then a missing
// espeak-ng fails it).
func Espeak(t testing.TB) string {
	t.Helper()
	if testing.Short() && os.Getenv(testpeer.RequirePeersEnv) != "1" {
		t.Skip("-short: not running espeak-ng")
	}
	return testpeer.Binary(t, "TEST_ESPEAK", "espeak-ng", "apt-get install espeak-ng")
}

// Voice is an espeak-ng voice ("en-us+m3", "en-gb") and speed in words per
// minute (0: espeak-ng's 175).
type Voice struct {
	Name  string
	Speed int
}

func (v Voice) String() string {
	if v.Speed == 0 {
		return v.Name
	}
	return v.Name + "@" + strconv.Itoa(v.Speed)
}

// Say synthesizes text with espeak-ng (bin from Espeak) and returns it as
// a phone line would carry it: 8 kHz, µ-law encoded and decoded.
func Say(t testing.TB, bin string, v Voice, text string) []int16 {
	t.Helper()
	pcm, err := SayErr(bin, v, text)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// SayErr is Say returning its error.
func SayErr(bin string, v Voice, text string) ([]int16, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"--stdout", "-v", v.Name}
	if v.Speed > 0 {
		args = append(args, "-s", strconv.Itoa(v.Speed))
	}
	cmd := exec.CommandContext(ctx, bin, append(args, "--", text)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("sttest: %s %s: %v (stderr: %s)", bin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	w, err := testpeer.DecodeWAV(out)
	if err != nil {
		return nil, err
	}
	return PhoneLine(audio.Resample(nil, w.Samples, w.SampleRate, Rate)), nil
}

// PhoneLine returns pcm after a G.711 µ-law round trip.
func PhoneLine(pcm []int16) []int16 {
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = g711.DecodeUlaw(g711.EncodeUlaw(s))
	}
	return out
}

// Silence returns d of digital silence at Rate.
func Silence(d time.Duration) []int16 { return make([]int16, Samples(d)) }

// Samples is the number of samples in d at Rate.
func Samples(d time.Duration) int { return int(d * Rate / time.Second) }

// Noise returns d of white noise with the given RMS (in 16-bit units),
// Gaussian, from a deterministic generator seeded with seed.
func Noise(d time.Duration, rms float64, seed uint64) []int16 {
	g := newGauss(seed)
	out := make([]int16, Samples(d))
	for i := range out {
		out[i] = clip(g.next() * rms)
	}
	return out
}

// AddNoise returns pcm plus white noise at snrDB below pcm's speech level
// (the RMS of its non-silent 20 ms frames).
func AddNoise(pcm []int16, snrDB float64, seed uint64) []int16 {
	rms := ActiveRMS(pcm) / math.Pow(10, snrDB/20)
	g := newGauss(seed)
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = clip(float64(s) + g.next()*rms)
	}
	return out
}

// ActiveRMS is the RMS of the frames of pcm louder than 1/100 of its
// loudest frame: the level of the speech, not of the pauses.
func ActiveRMS(pcm []int16) float64 {
	var frames []float64
	peak := 0.0
	for i := 0; i+FrameSize <= len(pcm); i += FrameSize {
		var e float64
		for _, s := range pcm[i : i+FrameSize] {
			e += float64(s) * float64(s)
		}
		e /= FrameSize
		frames = append(frames, e)
		peak = max(peak, e)
	}
	var sum float64
	n := 0
	for _, e := range frames {
		if e > peak/1e4 {
			sum += e
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(n))
}

// Clicks returns d of silence with a click (a 2-sample impulse of the
// given amplitude) every interval.
func Clicks(d, interval time.Duration, amplitude int16) []int16 {
	out := Silence(d)
	step := Samples(interval)
	for i := step / 2; i+1 < len(out); i += step {
		out[i], out[i+1] = amplitude, -amplitude
	}
	return out
}

// Concat joins pieces of audio.
func Concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Frames splits pcm into FrameSize frames, the last zero-padded.
func Frames(pcm []int16) [][]int16 {
	var out [][]int16
	for i := 0; i < len(pcm); i += FrameSize {
		f := make([]int16, FrameSize)
		copy(f, pcm[i:min(i+FrameSize, len(pcm))])
		out = append(out, f)
	}
	return out
}

// SpeechStart returns the index of the first sample of pcm whose absolute
// value reaches threshold, or -1.
func SpeechStart(pcm []int16, threshold int16) int {
	for i, s := range pcm {
		if s >= threshold || s <= -threshold {
			return i
		}
	}
	return -1
}

// WER is the word error rate of hyp against ref (on lower-case words with
// punctuation removed): (substitutions + deletions + insertions) / words
// of ref, by edit distance.
func WER(ref, hyp string) float64 {
	r, h := words(ref), words(hyp)
	if len(r) == 0 {
		if len(h) == 0 {
			return 0
		}
		return 1
	}
	return float64(stt.EditDistance(r, h)) / float64(len(r))
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'')
	})
}

func clip(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

// gauss is a deterministic Gaussian generator (xorshift64* and
// Box-Muller).
type gauss struct {
	s     uint64
	spare float64
	has   bool
}

func newGauss(seed uint64) *gauss { return &gauss{s: seed*0x9E3779B97F4A7C15 + 1} }

func (g *gauss) uniform() float64 {
	g.s ^= g.s >> 12
	g.s ^= g.s << 25
	g.s ^= g.s >> 27
	return (float64((g.s*0x2545F4914F6CDD1D)>>11) + 0.5) / (1 << 53)
}

func (g *gauss) next() float64 {
	if g.has {
		g.has = false
		return g.spare
	}
	u, v := g.uniform(), g.uniform()
	r := math.Sqrt(-2 * math.Log(u))
	g.spare, g.has = r*math.Sin(2*math.Pi*v), true
	return r * math.Cos(2*math.Pi*v)
}
