package sphinx

import "math"

// Confidence.
//
// PocketSphinx 5prealpha has no calibrated confidence. What it offers:
//
//   - ps_get_prob / ps_seg_prob: posterior probabilities from the word
//     lattice (-bestpath yes). In grammar mode the lattice holds only the
//     grammar's alternatives, so the posterior is 1.0 whatever was said —
//     useless for rejecting out-of-grammar speech. In free speech they
//     are real word posteriors.
//   - ps_seg_prob's acoustic score (ascr) of each word of the best path,
//     in the library's log units, normalized per frame against the best
//     senone of that frame: the closer to 0 per frame, the better the
//     audio fits the words' phones.
//
// So grammar mode uses the acoustic fit of the words (fillers and
// silences excluded): s = Σ ascr / Σ frames over the words, and
//
//	confidence = 1 / (1 + exp(-(s - grammarCenter) / grammarScale))
//
// Measured on synthesized speech through µ-law (6 choices, 9 voices and
// speeds, clean and at 15 dB SNR): correctly recognized phrases score s
// from -52 to -12 (median -26; 4 of 96 under -42), out-of-grammar words
// forced onto a phrase from -73 to -20 (median -39; 37 of 108 under -42),
// noise about -90. The two overlap: with the centre at -42 and
// MinConfidence 0.5 few right answers are rejected, and about a third of
// out-of-grammar words. Words whose cues lie above 4 kHz ("sales",
// "support") score lower than voiced ones ("yes", "no").
//
// Free speech uses the mean of the word posteriors of the best path (each
// the lattice posterior of that word, 0 to 1), which tracks how many
// words the decoder was sure of.
const (
	grammarCenter = -42.0
	grammarScale  = 3.0
)

// grammarConfidence is the confidence of a grammar hypothesis from its
// segments; 0 when it has no words.
func grammarConfidence(segs []segment) float64 {
	var ascr float64
	frames := 0
	for _, s := range segs {
		if s.filler() {
			continue
		}
		ascr += float64(s.ascr)
		frames += s.end - s.start + 1
	}
	if frames == 0 {
		return 0
	}
	return logistic((ascr/float64(frames) - grammarCenter) / grammarScale)
}

// freeConfidence is the confidence of a free-speech hypothesis: the mean
// posterior of its words; 0 when it has none.
func freeConfidence(segs []segment) float64 {
	var sum float64
	n := 0
	for _, s := range segs {
		if s.filler() {
			continue
		}
		sum += min(max(s.posterior, 0), 1)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// acousticPerFrame is the mean acoustic score per word frame, for reports.
func acousticPerFrame(segs []segment) float64 {
	var ascr float64
	frames := 0
	for _, s := range segs {
		if !s.filler() {
			ascr += float64(s.ascr)
			frames += s.end - s.start + 1
		}
	}
	if frames == 0 {
		return math.Inf(-1)
	}
	return ascr / float64(frames)
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
