package audio

import (
	"math"
	"time"
)

// SampleRate is the rate of every Prompt, in Hz. It equals
// media.InternalRate.
const SampleRate = 8000

// DefaultMaxDuration bounds the decoded length of one file when no other
// limit is configured.
const DefaultMaxDuration = 10 * time.Minute

// Prompt is decoded audio: 16-bit linear PCM, mono, at SampleRate.
//
// A Prompt is immutable once created: the Fetcher's cache hands the same
// Prompt to every call that plays it, concurrently, so nobody may modify
// Samples.
type Prompt struct {
	Samples []int16
}

// Duration reports the length of the prompt.
func (p *Prompt) Duration() time.Duration {
	if p == nil {
		return 0
	}
	return samplesDuration(len(p.Samples))
}

// sizeBytes is the memory the prompt's samples occupy.
func (p *Prompt) sizeBytes() int64 { return int64(len(p.Samples)) * 2 }

func samplesDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}

// durationSamples converts d to a sample count at SampleRate, rounding to
// the nearest sample; negative durations give 0.
func durationSamples(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	whole := int64(d/time.Second) * SampleRate
	frac := (int64(d%time.Second)*SampleRate + int64(time.Second)/2) / int64(time.Second)
	return int(whole + frac)
}

// Tone returns a sine tone of freqHz lasting dur (rounded to whole
// samples) with peak amplitude amplitude. Frequencies at or above
// SampleRate/2 alias; a non-positive duration gives an empty prompt.
func Tone(freqHz float64, dur time.Duration, amplitude int16) *Prompt {
	n := durationSamples(dur)
	s := make([]int16, n)
	w := 2 * math.Pi * freqHz / SampleRate
	a := float64(amplitude)
	for i := range s {
		s[i] = int16(math.Round(a * math.Sin(w*float64(i))))
	}
	return &Prompt{Samples: s}
}
