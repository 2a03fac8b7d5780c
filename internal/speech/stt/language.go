package stt

import (
	"fmt"
	"strings"
)

// CanonicalLanguage checks that tag looks like a BCP-47 language tag and
// returns it with the conventional casing and hyphens: "en_us" → "en-US",
// "zh-hant-tw" → "zh-Hant-TW". A tag that is not one is an error wrapping
// ErrLanguage.
func CanonicalLanguage(tag string) (string, error) {
	t := strings.ReplaceAll(strings.TrimSpace(tag), "_", "-")
	if t == "" {
		return "", fmt.Errorf("%w: empty language tag", ErrLanguage)
	}
	parts := strings.Split(t, "-")
	for i, p := range parts {
		if p == "" || len(p) > 8 || !alnum(p) {
			return "", fmt.Errorf("%w: %q is not a BCP-47 language tag", ErrLanguage, tag)
		}
		switch {
		case i == 0:
			if len(p) < 2 || len(p) > 8 || !alpha(p) {
				return "", fmt.Errorf("%w: %q is not a BCP-47 language tag", ErrLanguage, tag)
			}
			parts[i] = strings.ToLower(p)
		case len(p) == 4 && alpha(p): // script
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		case len(p) == 2 && alpha(p): // region
			parts[i] = strings.ToUpper(p)
		default: // numeric region, variants, extensions
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-"), nil
}

// PrimaryLanguage returns the lower-case primary language subtag of tag
// ("en" for "en-US"), which is the ISO 639-1 code for the languages that
// have one; "" when tag is not a language tag.
func PrimaryLanguage(tag string) string {
	c, err := CanonicalLanguage(tag)
	if err != nil {
		return ""
	}
	p, _, _ := strings.Cut(c, "-")
	return p
}

func alpha(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && !alpha(s[i:i+1]) {
			return false
		}
	}
	return true
}
