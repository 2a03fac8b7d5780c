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
// Grammar mode therefore tells a phrase from a stranger by decoys in the
// grammar (decoys.go): an utterance that fits a decoy best is no match
// whatever its score. The confidence of a phrase that won is the acoustic
// fit of its words (fillers and silences excluded), s = Σ ascr / Σ frames,
// through a logistic:
//
//	confidence = 1 / (1 + exp(-(s - grammarCenter) / grammarScale))
//
// With the decoys, measured on synthesized speech through µ-law (6
// phrases, 19 voices of two synthesizers, clean and at 15 dB SNR):
// phrases recognized right score s from -61 to -17 (median -41),
// out-of-grammar words that still beat every decoy from -62 to -33
// (median -52), noise about -90. The centre at -62 makes MinConfidence
// 0.5 a floor for noise and the worst strangers; above it the confidence
// says how well the phrase was pronounced (0.99 at -42).
//
// Free speech uses the mean of the word posteriors of the best path (each
// the lattice posterior of that word, 0 to 1), which tracks how many
// words the decoder was sure of.
const (
	grammarCenter = -62.0
	grammarScale  = 4.0
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
