package tts

import "strings"

// defaultEspeakVoice is used for an empty or unknown locale.
const defaultEspeakVoice = "en-us"

// Gender variants appended to an espeak-ng voice.
const (
	femaleVariant = "+f3"
	maleVariant   = "+m3"
)

// voiceChoice is a voice request reduced to what the mapping needs.
type voiceChoice struct {
	locale string // BCP 47 as given ("en-US"); "" for the default
	gender string // "female", "male" or "" (the voice's own)
}

// chooseVoice resolves an ACS voice name, locale and voice kind: the locale
// comes from the name's prefix ("en-US-NancyNeural"), else from locale; the
// gender from kind, else from the table of well-known neural voices.
func chooseVoice(name, locale, kind string) voiceChoice {
	loc, short := splitVoiceName(name)
	if loc == "" {
		loc = strings.TrimSpace(locale)
	}
	g := normGender(kind)
	if g == "" && short != "" {
		g = knownVoiceGender[voiceBase(short)]
	}
	return voiceChoice{locale: loc, gender: g}
}

// MapVoice returns the espeak-ng voice (e.g. "en-us+f3") for r's
// VoiceName, Locale and VoiceKind: locale from the voice name's prefix or
// Locale (default en-US), gender from VoiceKind or the built-in table of
// well-known Azure neural voices. An unknown voice name gets its locale's
// default voice and an unknown locale gets en-us. For SSML requests this is
// the document's starting voice before <speak xml:lang> and <voice>
// elements are applied.
func MapVoice(r Request) string {
	v, _ := chooseVoice(r.VoiceName, r.Locale, r.VoiceKind).espeak()
	return v
}

// espeak returns the espeak-ng voice for c; known is false when a
// non-empty locale was not recognised and en-us was used instead.
func (c voiceChoice) espeak() (voice string, known bool) {
	lang, known := espeakLanguage(c.locale)
	return lang + c.variant(), known
}

func (c voiceChoice) variant() string {
	switch c.gender {
	case "female":
		return femaleVariant
	case "male":
		return maleVariant
	}
	return ""
}

// splitVoiceName splits "en-US-NancyNeural" into "en-US" and "NancyNeural".
// A name without a language prefix ("NancyNeural") has no locale.
func splitVoiceName(name string) (locale, short string) {
	name = strings.TrimSpace(name)
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return "", name
	}
	first, _, _ := strings.Cut(name, "-")
	if !isLangSubtag(first) {
		return "", name
	}
	return name[:i], name[i+1:]
}

func isLangSubtag(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// voiceBase reduces a short voice name to the key of knownVoiceGender:
// "AvaMultilingualNeural" → "ava", "Ava:DragonHDLatestNeural" → "ava".
func voiceBase(short string) string {
	s := strings.ToLower(strings.TrimSpace(short))
	s, _, _ = strings.Cut(s, ":")
	s = strings.TrimSuffix(s, "neural")
	s = strings.TrimSuffix(s, "v2")
	s = strings.TrimSuffix(s, "multilingual")
	return s
}

func normGender(kind string) string {
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "female", "f":
		return "female"
	case "male", "m":
		return "male"
	}
	return ""
}

// espeakLanguage maps a BCP 47 locale to an espeak-ng voice name: the
// full tag first, then shorter prefixes ("zh-CN-henan" → "zh-cn" → cmn).
func espeakLanguage(locale string) (voice string, known bool) {
	tag := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-"))
	if tag == "" {
		return defaultEspeakVoice, true
	}
	for tag != "" {
		if v, ok := localeVoices[tag]; ok {
			return v, true
		}
		if !strings.Contains(tag, "-") {
			if espeakLanguages[tag] {
				return tag, true
			}
			break
		}
		tag = tag[:strings.LastIndexByte(tag, '-')]
	}
	return defaultEspeakVoice, false
}

// localeVoices maps locales (and languages) whose espeak-ng voice is not
// simply the language code.
var localeVoices = map[string]string{
	"en": "en-us", "en-us": "en-us", "en-ca": "en-us", "en-ph": "en-us",
	"en-gb": "en-gb", "en-au": "en-gb", "en-nz": "en-gb", "en-ie": "en-gb",
	"en-in": "en-gb", "en-za": "en-gb", "en-sg": "en-gb", "en-hk": "en-gb",
	"en-ke": "en-gb", "en-ng": "en-gb", "en-tz": "en-gb",
	"en-jm": "en-029", "en-tt": "en-029",

	"fr": "fr", "fr-fr": "fr", "fr-ca": "fr", "fr-be": "fr-be", "fr-ch": "fr-ch",

	"es": "es", "es-es": "es", "es-gq": "es", "es-419": "es-419",
	"es-mx": "es-419", "es-us": "es-419", "es-ar": "es-419", "es-bo": "es-419",
	"es-cl": "es-419", "es-co": "es-419", "es-cr": "es-419", "es-cu": "es-419",
	"es-do": "es-419", "es-ec": "es-419", "es-gt": "es-419", "es-hn": "es-419",
	"es-ni": "es-419", "es-pa": "es-419", "es-pe": "es-419", "es-pr": "es-419",
	"es-py": "es-419", "es-sv": "es-419", "es-uy": "es-419", "es-ve": "es-419",

	"pt": "pt", "pt-pt": "pt", "pt-br": "pt-br",

	"zh": "cmn", "zh-cn": "cmn", "zh-tw": "cmn", "zh-sg": "cmn", "zh-hk": "yue",
	"yue": "yue", "wuu": "cmn", "cmn": "cmn",

	"no": "nb", "nn": "nb", "iw": "he", "in": "id",
}

// espeakLanguages are languages whose espeak-ng voice is their code.
var espeakLanguages = map[string]bool{
	"af": true, "am": true, "ar": true, "as": true, "az": true, "ba": true,
	"be": true, "bg": true, "bn": true, "bs": true, "ca": true, "cs": true,
	"cy": true, "da": true, "de": true, "el": true, "et": true, "eu": true,
	"fa": true, "fi": true, "ga": true, "gd": true, "gu": true, "he": true,
	"hi": true, "hr": true, "ht": true, "hu": true, "hy": true, "id": true,
	"is": true, "it": true, "ja": true, "ka": true, "kk": true, "kn": true,
	"ko": true, "ky": true, "la": true, "lb": true, "lt": true, "lv": true,
	"mi": true, "mk": true, "ml": true, "mr": true, "ms": true, "mt": true,
	"my": true, "nb": true, "ne": true, "nl": true, "or": true, "pa": true,
	"pl": true, "ro": true, "ru": true, "sd": true, "si": true, "sk": true,
	"sl": true, "sq": true, "sr": true, "sv": true, "sw": true, "ta": true,
	"te": true, "th": true, "tk": true, "tn": true, "tr": true, "tt": true,
	"ug": true, "uk": true, "ur": true, "uz": true, "vi": true,
}
