package dtmf

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

func TestNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	const want = "159#*0D3"
	clean := concat(silence(ms(50)), GenerateSequence(want, 60*time.Millisecond, 60*time.Millisecond), silence(ms(50)))
	// Signal power of a digit at the default levels.
	sig := (amp(-9)*amp(-9) + amp(-7)*amp(-7)) / 2
	for _, snr := range []float64{20, 15} {
		for seed := range 10 {
			noisy := addNoise(rand.New(rand.NewPCG(uint64(seed), 19)), clean, sig/pow10(snr/10))
			if got := digits(t, noisy); got != want {
				t.Errorf("SNR %v dB, seed %d: detected %q", snr, seed, got)
			}
		}
	}
	// Noise alone, from loud to quiet, never holds a digit.
	for _, level := range []float64{-3, -10, -20, -30, -40} {
		noise := addNoise(rng, silence(ms(20000)), amp(level)*amp(level)/2)
		if got := digits(t, noise); got != "" {
			t.Errorf("noise at %v dBm0: detected %q", level, got)
		}
	}
}

// TestG711RoundTrip sends generated digits through µ-law and A-law.
func TestG711RoundTrip(t *testing.T) {
	const want = "0123456789*#ABCD"
	for _, lv := range []Levels{DefaultLevels, {Low: -20, High: -18}, {Low: -3, High: -5}} {
		var pcm []int16
		for i := range len(want) {
			pcm = append(pcm, GenerateLevels(want[i], 70*time.Millisecond, lv)...)
			pcm = append(pcm, silence(ms(50))...)
		}
		u, a := make([]byte, len(pcm)), make([]byte, len(pcm))
		g711.EncodeUlawFrame(u, pcm)
		g711.EncodeAlawFrame(a, pcm)
		du, da := make([]int16, len(pcm)), make([]int16, len(pcm))
		g711.DecodeUlawFrame(du, u)
		g711.DecodeAlawFrame(da, a)
		if got := digits(t, du); got != want {
			t.Errorf("µ-law at %+v: detected %q", lv, got)
		}
		if got := digits(t, da); got != want {
			t.Errorf("A-law at %+v: detected %q", lv, got)
		}
	}
}
func pow10(x float64) float64 { return math.Pow(10, x) }
