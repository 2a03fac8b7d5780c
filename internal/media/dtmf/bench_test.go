package dtmf

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchSignals are 20 ms frames of the kinds of audio a leg carries.
func benchSignals() map[string][]int16 {
	rng := rand.New(rand.NewPCG(21, 22))
	tone := GenerateSequence("5", time.Second, 0)
	return map[string][]int16{
		"silence": silence(ms(1000)),
		"noise":   addNoise(rng, silence(ms(1000)), amp(-15)*amp(-15)/2),
		"music":   toPCM(note(440, 6, 1, 0.004, ms(1000), 1)),
		"digit":   tone,
	}
}

func TestProcessAllocs(t *testing.T) {
	for name, sig := range benchSignals() {
		var d Detector
		n := 0
		emit := func(Event) { n++ }
		i := 0
		if a := testing.AllocsPerRun(100, func() {
			d.Process(sig[i:i+160], emit)
			i = (i + 160) % (len(sig) - 160)
		}); a != 0 {
			t.Errorf("%s: %v allocs per frame", name, a)
		}
	}
}

// BenchmarkDetector measures one 20 ms frame (four analysis windows).
func BenchmarkDetector(b *testing.B) {
	for _, name := range []string{"silence", "noise", "music", "digit"} {
		sig := benchSignals()[name]
		b.Run(name, func(b *testing.B) {
			var d Detector
			emit := func(Event) {}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				d.Process(sig[i:i+160], emit)
				if i += 160; i+160 > len(sig) {
					i = 0
				}
			}
		})
	}
}
