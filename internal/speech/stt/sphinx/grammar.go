package sphinx

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/switchboard-oss/switchboard/internal/speech/stt"
)

// grammar is the JSGF for a list of phrases, and the way back from the
// words the decoder hears to the phrase.
type grammar struct {
	jsgf    string
	byWords map[string]int // normalized words ("customer service") → phrase index
}

// buildGrammar normalizes phrases (stt.Words: lower case, punctuation
// dropped) and makes the one-rule grammar of the phrases and up to
// nDecoys decoys from lex (see decoys.go):
//
//	#JSGF V1.0;
//	grammar choices;
//	public <choice> = /1/ billing | /1/ customer service | /1e-40/ the | /1e-40/ people … ;
//
// A phrase with a word the dictionary does not know (pron returns "") is
// dropped with a warning; so is a phrase with no words or one that
// duplicates an earlier phrase. No phrase left is an error wrapping
// stt.ErrInvalid.
func buildGrammar(phrases []string, pron func(string) string, lex lexicon, nDecoys int, log *slog.Logger) (grammar, error) {
	g := grammar{byWords: make(map[string]int, len(phrases))}
	var alts, dropped []string
	var avoid [][]string // pronunciations of the phrases' words
	for i, p := range phrases {
		words := stt.Words(p)
		if len(words) == 0 {
			dropped = append(dropped, fmt.Sprintf("%q (no words)", p))
			continue
		}
		key := strings.Join(words, " ")
		if _, dup := g.byWords[key]; dup {
			continue
		}
		var oov []string
		var prons [][]string
		for _, w := range words {
			p := strings.Fields(pron(w))
			if len(p) == 0 {
				oov = append(oov, w)
			}
			prons = append(prons, p)
		}
		if len(oov) > 0 {
			dropped = append(dropped, fmt.Sprintf("%q (not in the dictionary: %s)", p, strings.Join(oov, ", ")))
			continue
		}
		g.byWords[key] = i
		alts = append(alts, key)
		avoid = append(avoid, prons...)
	}
	if len(dropped) > 0 {
		log.Warn("sphinx: phrases the recognizer cannot hear were left out of the grammar", "phrases", dropped)
	}
	if len(alts) == 0 {
		return grammar{}, fmt.Errorf("%w: sphinx: no phrase of the grammar can be recognized: %s", stt.ErrInvalid, strings.Join(dropped, "; "))
	}
	decoys := lex.decoys(avoid, nDecoys)
	var b strings.Builder
	b.WriteString("#JSGF V1.0;\ngrammar choices;\npublic <choice> =")
	for i, a := range alts {
		if i > 0 {
			b.WriteString(" |")
		}
		if len(decoys) > 0 {
			b.WriteString(" /1/")
		}
		b.WriteString(" " + a)
	}
	for _, d := range decoys {
		b.WriteString(" | /" + decoyWeight + "/ " + d)
	}
	b.WriteString(" ;\n")
	g.jsgf = b.String()
	return g, nil
}

// phrase maps the words the decoder heard back to a phrase index, or -1.
func (g grammar) phrase(heard string) int {
	if i, ok := g.byWords[strings.Join(stt.Words(heard), " ")]; ok {
		return i
	}
	return -1
}
