package tts

import (
	"regexp"
	"strings"
)

// otherLanguage matches the "(en 2)" entries of espeak-ng --voices.
var otherLanguage = regexp.MustCompile(`\(([A-Za-z0-9-]+) [0-9]+\)`)

// parseVoiceList returns the language names in the output of
// espeak-ng --voices (its Language column and Other Languages entries),
// lower-cased, or nil when there are none.
func parseVoiceList(out string) map[string]bool {
	var set map[string]bool
	add := func(s string) {
		if set == nil {
			set = map[string]bool{}
		}
		set[strings.ToLower(s)] = true
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.Trim(f[0], "0123456789") != "" {
			continue // header or junk
		}
		add(f[1])
		for _, m := range otherLanguage.FindAllStringSubmatch(line, -1) {
			add(m[1])
		}
	}
	return set
}
