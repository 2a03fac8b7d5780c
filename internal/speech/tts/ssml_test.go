package tts

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const azureSSML = `<?xml version="1.0" encoding="UTF-8"?>
<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis"
       xmlns:mstts="https://www.w3.org/2001/mstts" xml:lang="en-US">
  <voice name="en-US-JennyNeural">
    <mstts:express-as style="cheerful" styledegree="2">Thanks for calling Contoso!</mstts:express-as>
    <break time="500ms"/>
    <prosody rate="+10%" pitch="high">Please hold.</prosody>
    <mstts:silence type="Sentenceboundary" value="200ms"/>
  </voice>
  <voice name="fr-FR-HenriNeural"><lang xml:lang="de-DE">Guten Tag</lang> et bonjour.</voice>
</speak>`

func TestParseSSML(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		req     Request
		espeak  string // the body between <speak> and </speak>, whitespace collapsed
		text    string
		base    string // espeak voice of the starting voice
		voice   string // first <voice name>
		dropped []string
	}{
		{
			name: "minimal", src: `<speak>Hello</speak>`,
			espeak: "Hello", text: "Hello", base: "en-us",
		},
		{
			name: "azure document",
			src:  azureSSML,
			espeak: `<voice name="en-us+f3"> Thanks for calling Contoso! <break time="500ms"/> <prosody rate="+10%" pitch="high">Please hold.</prosody> </voice> ` +
				`<voice name="fr+m3"><voice name="de+m3">Guten Tag</voice> et bonjour.</voice>`,
			text:    "Thanks for calling Contoso! Please hold. Guten Tag et bonjour.",
			base:    "en-us",
			voice:   "en-US-JennyNeural",
			dropped: []string{"{https://www.w3.org/2001/mstts}express-as", "{https://www.w3.org/2001/mstts}silence"},
		},
		{
			name: "speak xml:lang sets the locale", src: `<speak xml:lang="de-DE">Hallo</speak>`,
			espeak: "Hallo", text: "Hallo", base: "de",
		},
		{
			name: "speak xml:lang beats the request locale", src: `<speak xml:lang="fr-FR">Salut</speak>`,
			req:    Request{Locale: "de-DE", VoiceKind: "female"},
			espeak: "Salut", text: "Salut", base: "fr+f3",
		},
		{
			name: "request locale without xml:lang", src: `<speak>Hola</speak>`,
			req:    Request{Locale: "es-MX"},
			espeak: "Hola", text: "Hola", base: "es-419",
		},
		{
			name:   "voice by gender and language",
			src:    `<speak><voice gender="female" xml:lang="it-IT">Ciao</voice></speak>`,
			espeak: `<voice name="it+f3">Ciao</voice>`, text: "Ciao", base: "en-us",
		},
		{
			name:   "unknown voice gets the locale default",
			src:    `<speak><voice name="es-ES-NobodyNeural">Hola</voice></speak>`,
			espeak: `<voice name="es">Hola</voice>`, text: "Hola", base: "en-us", voice: "es-ES-NobodyNeural",
		},
		{
			name:   "nested voice without name inherits, lang keeps gender",
			src:    `<speak><voice name="en-US-GuyNeural">A <lang xml:lang="es-ES">B</lang></voice></speak>`,
			espeak: `<voice name="en-us+m3">A <voice name="es+m3">B</voice></voice>`, text: "A B", base: "en-us", voice: "en-US-GuyNeural",
		},
		{
			name:   "p s and aliases",
			src:    `<speak><p><s>One.</s><sentence>Two.</sentence></p><paragraph>Three.</paragraph></speak>`,
			espeak: `<p><s>One.</s><s>Two.</s></p><p>Three.</p>`, text: "One. Two. Three.", base: "en-us",
		},
		{
			name:   "sub is replaced by its alias",
			src:    `<speak>Visit the <sub alias="World Wide Web">WWW</sub> today</speak>`,
			espeak: `Visit the World Wide Web today`, text: "Visit the World Wide Web today", base: "en-us",
		},
		{
			name: "audio and metadata are skipped",
			src: `<speak><metadata><x>meta text</x></metadata>Before <audio src="https://x/y.wav">fallback <desc>d</desc></audio> after` +
				`<lexicon uri="x"/></speak>`,
			espeak: `Before after`, text: "Before after", base: "en-us",
		},
		{
			name:   "say-as characters kept, others dropped",
			src:    `<speak><say-as interpret-as="spell-out">ABC</say-as> <say-as interpret-as="cardinal">42</say-as></speak>`,
			espeak: `<say-as interpret-as="characters">ABC</say-as> 42`, text: "ABC 42", base: "en-us",
		},
		{
			name: "break values are sanitized and clamped",
			src: `<speak>a<break time="2s"/>b<break time="1e9ms"/>c<break time="x&quot;y"/>d<break strength="strong"/>e` +
				`<break strength="bogus"/>f</speak>`,
			espeak: `a<break time="2000ms"/>b<break time="10000ms"/>c<break/>d<break strength="strong"/>e<break/>f`,
			text:   "a b c d e f", base: "en-us",
		},
		{
			name:   "unsafe prosody values are dropped",
			src:    `<speak><prosody rate="x-slow" pitch="&quot;/&gt;&lt;audio" volume="loud">Hi</prosody><prosody foo="1">there</prosody></speak>`,
			espeak: `<prosody rate="x-slow" volume="loud">Hi</prosody>there`, text: "Hithere", base: "en-us",
		},
		{
			name:   "emphasis",
			src:    `<speak><emphasis level="strong">Now</emphasis> <emphasis level="'">then</emphasis></speak>`,
			espeak: `<emphasis level="strong">Now</emphasis> <emphasis>then</emphasis>`, text: "Now then", base: "en-us",
		},
		{
			name:   "text is escaped, CDATA and comments handled",
			src:    `<speak>1 &lt; 2 &amp; <![CDATA[3 > <b>]]><!-- secret --><?pi x?> &#65;</speak>`,
			espeak: `1 &lt; 2 &amp; 3 &gt; &lt;b&gt; A`, text: "1 < 2 & 3 > <b> A", base: "en-us",
		},
		{
			name:   "phoneme keeps its text, unknown elements dropped",
			src:    `<speak><phoneme alphabet="ipa" ph="x">tomato</phoneme> <foo>bar</foo> <speak>inner</speak></speak>`,
			espeak: `tomato bar inner`, text: "tomato bar inner", base: "en-us", dropped: []string{"foo", "speak"},
		},
		{
			name:   "https SSML namespace",
			src:    `<speak xmlns="https://www.w3.org/2001/10/synthesis"><s>Hi</s></speak>`,
			espeak: `<s>Hi</s>`, text: "Hi", base: "en-us",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseSSML(tt.src, tt.req, nil)
			if err != nil {
				t.Fatalf("parseSSML: %v", err)
			}
			body := strings.TrimSuffix(strings.TrimPrefix(doc.espeak, "<speak>"), "</speak>")
			if got := strings.Join(strings.Fields(body), " "); got != tt.espeak {
				t.Errorf("espeak SSML body\n got %s\nwant %s", got, tt.espeak)
			}
			if doc.text != tt.text {
				t.Errorf("text = %q, want %q", doc.text, tt.text)
			}
			if v, _ := doc.base.espeak(); v != tt.base {
				t.Errorf("base voice = %q, want %q", v, tt.base)
			}
			if doc.voice != tt.voice {
				t.Errorf("first voice = %q, want %q", doc.voice, tt.voice)
			}
			if !slices.Equal(doc.dropped, tt.dropped) {
				t.Errorf("dropped = %q, want %q", doc.dropped, tt.dropped)
			}
		})
	}
}

func TestParseSSMLRejects(t *testing.T) {
	deep := `<speak>` + strings.Repeat("<p>", maxSSMLDepth) + "x" + strings.Repeat("</p>", maxSSMLDepth) + `</speak>`
	tests := []struct {
		name string
		src  string
		want error
	}{
		{"unclosed tag", `<speak><voice name="x">Hello</speak>`, ErrInvalidSSML},
		{"unclosed root", `<speak>Hello`, ErrInvalidSSML},
		{"no speak root", `<voice name="en-US-JennyNeural">Hello</voice>`, ErrInvalidSSML},
		{"plain text", `Hello world`, ErrInvalidSSML},
		{"text before root", `Hi <speak>Hello</speak>`, ErrInvalidSSML},
		{"second root", `<speak>Hello</speak><speak>again</speak>`, ErrInvalidSSML},
		{"text after root", `<speak>Hello</speak> trailing`, ErrInvalidSSML},
		{"speak in a foreign namespace", `<x:speak xmlns:x="urn:x">Hello</x:speak>`, ErrInvalidSSML},
		{"doctype with entity (XXE)", `<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><speak>&xxe;</speak>`, ErrInvalidSSML},
		{"internal entity", `<!DOCTYPE speak [<!ENTITY a "aaaa">]><speak>&a;</speak>`, ErrInvalidSSML},
		{"undefined entity", `<speak>&nbsp;</speak>`, ErrInvalidSSML},
		{"non-UTF-8 encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><speak>Hi</speak>`, ErrInvalidSSML},
		{"mismatched end", `<speak><p>Hi</s></speak>`, ErrInvalidSSML},
		{"too deep", deep, ErrInvalidSSML},
		{"empty document", ``, ErrInvalidSSML},
		{"no text", `<speak version="1.0"> <break time="1s"/> </speak>`, ErrEmpty},
		{"only skipped text", `<speak><audio src="x">fallback</audio></speak>`, ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSSML(tt.src, Request{}, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("parseSSML(%q) = %v, want %v", tt.src, err, tt.want)
			}
		})
	}
}

// FuzzParseSSML checks that the validator never panics and that what it
// accepts becomes a well-formed espeak-ng document that parses back to the
// same text.
func FuzzParseSSML(f *testing.F) {
	for _, s := range []string{
		azureSSML,
		`<speak>Hello</speak>`,
		`<speak><sub alias="a&amp;b">x</sub><break time="1.5s"/><say-as interpret-as="characters">ab</say-as></speak>`,
		`<speak xml:lang="zh-CN"><voice gender="male"><prosody rate="-20%">你好</prosody></voice></speak>`,
		`<!DOCTYPE speak [<!ENTITY a "b">]><speak>&a;</speak>`,
		`<speak><audio src="x"><voice name="y">z</voice></audio>t</speak>`,
		"<speak>\x00\x1b[31m\r\n</speak>",
		`<speak><p>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := parseSSML(src, Request{}, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalidSSML) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if doc.text == "" || strings.ContainsFunc(doc.text, func(r rune) bool { return r < 0x20 }) {
			t.Fatalf("bad text %q", doc.text)
		}
		again, err := parseSSML(doc.espeak, Request{}, nil)
		if err != nil {
			t.Fatalf("transformed SSML %q does not parse: %v", doc.espeak, err)
		}
		if again.text != doc.text {
			t.Fatalf("text changed: %q -> %q", doc.text, again.text)
		}
		if strings.Contains(doc.espeak, "<!") || strings.Contains(doc.espeak, "<?") {
			t.Fatalf("declaration in output %q", doc.espeak)
		}
	})
}
