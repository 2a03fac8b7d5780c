package tts

import (
	"maps"
	"slices"
	"testing"
)

func TestMapVoice(t *testing.T) {
	tests := []struct {
		name string
		r    Request
		want string
	}{
		{"empty request: en-US default", Request{}, "en-us"},
		{"female neural en-US", Request{VoiceName: "en-US-NancyNeural"}, "en-us+f3"},
		{"jenny", Request{VoiceName: "en-US-JennyNeural"}, "en-us+f3"},
		{"aria", Request{VoiceName: "en-US-AriaNeural"}, "en-us+f3"},
		{"male neural en-US", Request{VoiceName: "en-US-GuyNeural"}, "en-us+m3"},
		{"davis", Request{VoiceName: "en-US-DavisNeural"}, "en-us+m3"},
		{"multilingual suffix", Request{VoiceName: "en-US-AvaMultilingualNeural"}, "en-us+f3"},
		{"dragon HD suffix", Request{VoiceName: "en-US-Andrew:DragonHDLatestNeural"}, "en-us+m3"},
		{"case-insensitive name", Request{VoiceName: "EN-us-jennyneural"}, "en-us+f3"},
		{"en-GB", Request{VoiceName: "en-GB-SoniaNeural"}, "en-gb+f3"},
		{"en-AU uses en-gb", Request{VoiceName: "en-AU-WilliamNeural"}, "en-gb+m3"},
		{"fr-FR female", Request{VoiceName: "fr-FR-DeniseNeural"}, "fr+f3"},
		{"fr-FR male", Request{VoiceName: "fr-FR-HenriNeural"}, "fr+m3"},
		{"fr-CA", Request{VoiceName: "fr-CA-SylvieNeural"}, "fr+f3"},
		{"de-DE female", Request{VoiceName: "de-DE-KatjaNeural"}, "de+f3"},
		{"de-DE male", Request{VoiceName: "de-DE-ConradNeural"}, "de+m3"},
		{"es-ES female", Request{VoiceName: "es-ES-ElviraNeural"}, "es+f3"},
		{"es-ES male", Request{VoiceName: "es-ES-AlvaroNeural"}, "es+m3"},
		{"es-MX", Request{VoiceName: "es-MX-DaliaNeural"}, "es-419+f3"},
		{"it-IT", Request{VoiceName: "it-IT-ElsaNeural"}, "it+f3"},
		{"pt-BR", Request{VoiceName: "pt-BR-FranciscaNeural"}, "pt-br+f3"},
		{"pt-PT", Request{VoiceName: "pt-PT-DuarteNeural"}, "pt+m3"},
		{"nl-NL", Request{VoiceName: "nl-NL-MaartenNeural"}, "nl+m3"},
		{"ja-JP", Request{VoiceName: "ja-JP-NanamiNeural"}, "ja+f3"},
		{"zh-CN", Request{VoiceName: "zh-CN-XiaoxiaoNeural"}, "cmn+f3"},
		{"zh-CN dialect voice", Request{VoiceName: "zh-CN-henan-YundengNeural"}, "cmn"},
		{"zh-HK", Request{VoiceName: "zh-HK-HiuMaanNeural"}, "yue"},
		{"sr-Latn-RS script subtag", Request{VoiceName: "sr-Latn-RS-NicholasNeural"}, "sr"},
		{"unknown voice: locale default", Request{VoiceName: "en-US-NobodyNeural"}, "en-us"},
		{"unknown voice of known locale", Request{VoiceName: "ko-KR-HyunsuNeural"}, "ko"},
		{"unknown locale: en-us", Request{VoiceName: "xx-YY-SomeoneNeural"}, "en-us"},
		{"unknown locale keeps gender", Request{Locale: "tlh-QO", VoiceKind: "female"}, "en-us+f3"},
		{"locale only", Request{Locale: "de-DE"}, "de"},
		{"locale with underscore", Request{Locale: "pt_BR"}, "pt-br"},
		{"language only", Request{Locale: "sv"}, "sv"},
		{"locale and kind", Request{Locale: "es-MX", VoiceKind: "male"}, "es-419+m3"},
		{"kind overrides table", Request{VoiceName: "en-US-JennyNeural", VoiceKind: "Male"}, "en-us+m3"},
		{"bogus kind ignored", Request{VoiceName: "en-US-JennyNeural", VoiceKind: "robot"}, "en-us+f3"},
		{"name prefix beats locale", Request{VoiceName: "fr-FR-DeniseNeural", Locale: "de-DE"}, "fr+f3"},
		{"name without prefix uses locale", Request{VoiceName: "JennyNeural", Locale: "en-GB"}, "en-gb+f3"},
		{"name without prefix, no locale", Request{VoiceName: "GuyNeural"}, "en-us+m3"},
		{"garbage name", Request{VoiceName: "--help"}, "en-us"},
		{"option-like locale", Request{Locale: "-w /tmp/x"}, "en-us"},
		{"spaces", Request{VoiceName: "  en-GB-RyanNeural  "}, "en-gb+m3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MapVoice(tt.r); got != tt.want {
				t.Errorf("MapVoice(%+v) = %q, want %q", tt.r, got, tt.want)
			}
		})
	}
}

func TestKnownVoiceGenders(t *testing.T) {
	for name, g := range knownVoiceGender {
		if g != "female" && g != "male" {
			t.Errorf("%s: gender %q", name, g)
		}
		if voiceBase(name) != name {
			t.Errorf("%s is not a voiceBase key", name)
		}
	}
}

func TestSplitVoiceName(t *testing.T) {
	tests := []struct{ in, loc, short string }{
		{"en-US-NancyNeural", "en-US", "NancyNeural"},
		{"zh-CN-henan-YundengNeural", "zh-CN-henan", "YundengNeural"},
		{"NancyNeural", "", "NancyNeural"},
		{"-x-y", "", "-x-y"},
		{"1a-US-X", "", "1a-US-X"},
		{"", "", ""},
	}
	for _, tt := range tests {
		loc, short := splitVoiceName(tt.in)
		if loc != tt.loc || short != tt.short {
			t.Errorf("splitVoiceName(%q) = %q, %q; want %q, %q", tt.in, loc, short, tt.loc, tt.short)
		}
	}
}

// sampleVoices is an excerpt of espeak-ng 1.51 --voices.
const sampleVoices = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 5  de              --/M      German             gmw/de
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  es-419          --/M      Spanish_(Latin_America) roa/es-419           (es-mx 6)(es 6)
 5  fr-fr           --/M      French_(France)    roa/fr               (fr 5)
`

func TestParseVoiceList(t *testing.T) {
	got := slices.Sorted(maps.Keys(parseVoiceList(sampleVoices)))
	want := []string{"cmn", "de", "en", "en-gb", "en-us", "es", "es-419", "es-mx", "fr", "fr-fr", "zh", "zh-cmn"}
	if !slices.Equal(got, want) {
		t.Errorf("parseVoiceList = %v, want %v", got, want)
	}
	if parseVoiceList("") != nil || parseVoiceList("garbage\nmore garbage") != nil {
		t.Error("no voices should give nil")
	}
}

func TestInstalledVoiceFallback(t *testing.T) {
	e := &Espeak{voices: parseVoiceList(sampleVoices)}
	tests := []struct {
		c        voiceChoice
		want     string
		fellBack bool
	}{
		{voiceChoice{locale: "fr-FR", gender: "female"}, "fr+f3", false},
		{voiceChoice{locale: "es-MX"}, "es-419", false},
		{voiceChoice{locale: "pt-BR", gender: "male"}, "en-us+m3", true}, // not installed
		{voiceChoice{locale: "fr-BE"}, "fr", false},                      // fr-be missing: its language
		{voiceChoice{locale: "xx"}, "en-us", true},
		{voiceChoice{}, "en-us", false},
	}
	for _, tt := range tests {
		got, fb := e.voiceName(tt.c)
		if got != tt.want || fb != tt.fellBack {
			t.Errorf("voiceName(%+v) = %q, %v; want %q, %v", tt.c, got, fb, tt.want, tt.fellBack)
		}
	}
}
