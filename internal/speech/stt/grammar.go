package stt

import (
	"strings"
	"unicode"
)

// Words normalizes text for matching: lower-case words made of letters,
// digits and inner apostrophes ("Don't" → "don't"); everything else
// separates words. "Billing, please!" → ["billing" "please"].
func Words(text string) []string {
	f := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '’'
	})
	out := f[:0]
	for _, w := range f {
		w = strings.Trim(strings.ReplaceAll(w, "’", "'"), "'")
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// EditDistance is the Levenshtein distance between two sequences: the
// fewest substitutions, deletions and insertions that turn a into b (of
// words, for word error rates; of phones, for how alike two words sound).
func EditDistance[T comparable](a, b []T) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Match is how well a transcript matches one phrase of a grammar.
type Match struct {
	Index int     // into the phrases; -1 when nothing matched at all
	Score float64 // 0 to 1
}

// MatchPhrases finds the phrase of phrases that the transcript says, on
// normalized words (see Words). The score of a phrase is
//
//	recall × (0.75 + 0.25 × precision)
//
// where recall is the share of the phrase's words found in the transcript
// and precision the share of the transcript's words found in the phrase:
// the exact phrase scores 1, the phrase inside a longer sentence ("billing
// please") at least 0.75, half a phrase about 0.5. When two phrases
// tie for the best score the transcript is ambiguous ("not billing,
// sales") and the score is halved. The best phrase (the first, on ties)
// is returned; Index is -1 when no phrase shares a word with the
// transcript.
func MatchPhrases(transcript string, phrases []string) Match {
	said := Words(transcript)
	best, second := Match{Index: -1}, 0.0
	if len(said) == 0 {
		return best
	}
	for i, p := range phrases {
		s := phraseScore(said, Words(p))
		switch {
		case s > best.Score:
			second = best.Score
			best = Match{Index: i, Score: s}
		case s > second:
			second = s
		}
	}
	if best.Index >= 0 && second == best.Score {
		best.Score /= 2
	}
	return best
}

// phraseScore scores one normalized phrase against normalized said words
// (multiset overlap).
func phraseScore(said, phrase []string) float64 {
	if len(phrase) == 0 {
		return 0
	}
	count := make(map[string]int, len(said))
	for _, w := range said {
		count[w]++
	}
	common := 0
	for _, w := range phrase {
		if count[w] > 0 {
			count[w]--
			common++
		}
	}
	if common == 0 {
		return 0
	}
	recall := float64(common) / float64(len(phrase))
	precision := float64(common) / float64(len(said))
	return recall * (0.75 + 0.25*precision)
}
