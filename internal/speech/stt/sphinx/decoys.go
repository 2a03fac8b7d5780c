package sphinx

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard-oss/switchboard/internal/speech/stt"
)

// Out-of-grammar rejection.
//
// A grammar of the phrases alone forces every utterance onto one of them:
// "help" comes out as "sales", "seven" as "billing". So the grammar also
// offers decoys: the language model's most frequent words, each a single
// alternative with a tiny prior (decoyWeight) against the phrases' 1. An
// utterance outside the grammar then usually fits some decoy better than
// any phrase, the decoder says so, and the result is a no-match; a phrase
// spoken well still wins thanks to its prior.
//
// A decoy that sounds like a phrase word would steal it, so decoys within
// one phone (edit distance over the dictionary's pronunciations) of a
// word of any phrase are left out. The weight is the operating point:
// measured on 114 phrases and 494 out-of-grammar words (19 synthesized
// voices, µ-law; docs/SPEECH.md), 1e-40 with 1000 decoys keeps 84 % of
// the phrases right with none wrong and rejects 94 % of the
// out-of-grammar words, where the phrases alone are 97 % right and 3 %
// wrong but reject almost none. 1e-35 rejects more strangers and fewer
// phrases get through; 1e-45 the reverse; the library stops telling
// weights apart below about 1e-50. A loop of decoys (to absorb several
// words) does not work: a rule reference's weight is ignored, so short
// decoys strung together outscore every phrase.
//
// Decoys cost little: grammar decoding stays near 1 % of real time,
// reading the lexicon from the language model takes about 70 ms once per
// engine, and compiling a grammar when the phrases change about 6 ms.
const (
	decoyWeight  = "1e-40"
	decoyMinDist = 2 // phones a decoy must differ by from every phrase word
	// lexiconSpare is how many candidates beyond Options.Decoys are kept,
	// so that leaving out the words that sound like a phrase still
	// leaves Decoys of them.
	lexiconSpare = 500
)

// lexicon is the candidate decoys: the language model's most frequent
// plain words with their pronunciations, most frequent first.
type lexicon struct {
	words []string
	prons [][]string
}

// newLexicon keeps up to max of unigrams (most probable first) that are
// plain lower-case words with a pronunciation.
func newLexicon(unigrams []unigram, pron func(string) string, max int) lexicon {
	ugs := slices.Clone(unigrams)
	slices.SortStableFunc(ugs, func(a, b unigram) int { return cmp.Compare(b.logProb, a.logProb) })
	var l lexicon
	for _, u := range ugs {
		if len(l.words) >= max {
			break
		}
		if !plainWord(u.word) {
			continue
		}
		p := strings.Fields(pron(u.word))
		if len(p) == 0 {
			continue
		}
		l.words = append(l.words, u.word)
		l.prons = append(l.prons, p)
	}
	return l
}

// plainWord reports whether w is lower-case letters only (no "<s>",
// "don't", "a.", "hundred(2)").
func plainWord(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// decoys returns up to n words of l that sound unlike every pronunciation
// in avoid (the phrase words'), most frequent first.
func (l lexicon) decoys(avoid [][]string, n int) []string {
	var out []string
	for i, w := range l.words {
		if len(out) >= n {
			break
		}
		near := false
		for _, a := range avoid {
			if stt.EditDistance(l.prons[i], a) < decoyMinDist {
				near = true
				break
			}
		}
		if !near {
			out = append(out, w)
		}
	}
	return out
}

// unigram is one word of a language model with its log10 probability.
type unigram struct {
	word    string
	logProb float64
}

// parseUnigrams parses "log10prob word" lines.
func parseUnigrams(s string) []unigram {
	var out []unigram
	for _, line := range strings.Split(s, "\n") {
		p, w, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			continue
		}
		out = append(out, unigram{word: w, logProb: f})
	}
	return out
}
