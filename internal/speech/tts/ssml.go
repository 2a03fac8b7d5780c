package tts

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

const (
	xmlNamespace = "http://www.w3.org/XML/1998/namespace"
	// maxSSMLDepth bounds element nesting.
	maxSSMLDepth = 32
	// maxBreakMS bounds one <break time>.
	maxBreakMS = 10000
)

// maxSSMLBytes bounds the SSML markup of a request whose spoken text may
// have maxChars characters.
func maxSSMLBytes(maxChars int) int { return 16*maxChars + 1024 }

// ssmlDoc is a validated SSML document.
type ssmlDoc struct {
	espeak  string      // the document in the SSML subset espeak-ng reads
	text    string      // the spoken text, tags stripped, whitespace collapsed
	base    voiceChoice // the starting voice: the request's, with <speak xml:lang>
	voice   string      // name of the first <voice> element, "" if none
	dropped []string    // elements dropped with their text kept (for logs)
}

// ssmlParser holds the state of one parseSSML call.
type ssmlParser struct {
	req      Request
	mapVoice func(voiceChoice) string
	doc      ssmlDoc
	out      strings.Builder
	text     strings.Builder
	stack    []ssmlFrame
	rootSeen bool
	rootDone bool
}

// ssmlFrame is one open element.
type ssmlFrame struct {
	close string      // end tag to write, "" for none
	space bool        // separate the element's text from what follows
	voice voiceChoice // voice in effect inside the element
	skip  bool        // the element's content is not spoken
}

// parseSSML validates src and transforms it into the subset of SSML that
// espeak-ng handles (speak, p, s, break, emphasis, prosody, say-as, voice
// and text). <sub> is replaced by its alias, <audio> and metadata are
// skipped, <voice name> and <lang xml:lang> become espeak-ng voices via
// mapVoice (nil: the built-in mapping), and anything else (Azure's
// mstts:*, phoneme, unknown elements) is dropped with its text kept.
//
// src must be well-formed UTF-8 XML with a <speak> root and no DOCTYPE or
// entity declarations (ErrInvalidSSML), and contain text (ErrEmpty).
func parseSSML(src string, r Request, mapVoice func(voiceChoice) string) (*ssmlDoc, error) {
	if mapVoice == nil {
		mapVoice = func(c voiceChoice) string { v, _ := c.espeak(); return v }
	}
	p := &ssmlParser{req: r, mapVoice: mapVoice}
	dec := xml.NewDecoder(strings.NewReader(src))
	dec.Strict = true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidSSML, err)
		}
		if err := p.token(tok); err != nil {
			return nil, err
		}
	}
	if !p.rootSeen {
		return nil, fmt.Errorf("%w: no <speak> element", ErrInvalidSSML)
	}
	if !p.rootDone {
		return nil, fmt.Errorf("%w: unclosed elements", ErrInvalidSSML)
	}
	p.doc.text = strings.Join(strings.Fields(p.text.String()), " ")
	if p.doc.text == "" {
		return nil, fmt.Errorf("%w: the SSML has no text", ErrEmpty)
	}
	p.doc.espeak = "<speak>" + p.out.String() + "</speak>"
	return &p.doc, nil
}

func (p *ssmlParser) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.Directive:
		return fmt.Errorf("%w: DOCTYPE and entity declarations are not allowed", ErrInvalidSSML)
	case xml.StartElement:
		if p.rootDone {
			return fmt.Errorf("%w: content after </speak>", ErrInvalidSSML)
		}
		if !p.rootSeen {
			return p.root(t)
		}
		if len(p.stack) >= maxSSMLDepth {
			return fmt.Errorf("%w: elements nested deeper than %d", ErrInvalidSSML, maxSSMLDepth)
		}
		p.start(t)
	case xml.EndElement:
		top := p.stack[len(p.stack)-1]
		p.stack = p.stack[:len(p.stack)-1]
		p.out.WriteString(top.close)
		if top.space {
			p.text.WriteByte(' ')
			if top.close == "" {
				p.out.WriteByte(' ') // a dropped element: keep words apart
			}
		}
		if len(p.stack) == 0 {
			p.rootDone = true
		}
	case xml.CharData:
		if len(p.stack) == 0 {
			if strings.TrimSpace(string(t)) != "" {
				return fmt.Errorf("%w: text outside <speak>", ErrInvalidSSML)
			}
			return nil
		}
		if p.stack[len(p.stack)-1].skip {
			return nil
		}
		s := cleanText(string(t))
		p.out.WriteString(escapeXML(s))
		p.text.WriteString(s)
	}
	// Comments and processing instructions are ignored.
	return nil
}

func (p *ssmlParser) root(t xml.StartElement) error {
	if !isSSMLName(t.Name, "speak") {
		return fmt.Errorf("%w: the root element is <%s>, not <speak>", ErrInvalidSSML, t.Name.Local)
	}
	p.rootSeen = true
	loc := p.req.Locale
	if lang := xmlLang(t); lang != "" {
		loc = lang
	}
	p.doc.base = chooseVoice(p.req.VoiceName, loc, p.req.VoiceKind)
	p.stack = append(p.stack, ssmlFrame{voice: p.doc.base})
	return nil
}

// start handles an element inside <speak>.
func (p *ssmlParser) start(t xml.StartElement) {
	parent := p.stack[len(p.stack)-1]
	f := ssmlFrame{voice: parent.voice, skip: parent.skip}
	if f.skip {
		p.stack = append(p.stack, f)
		return
	}
	name := t.Name.Local
	if !isSSMLName(t.Name, name) {
		name = "" // foreign namespace (mstts:*): dropped
	}
	switch name {
	case "p", "paragraph":
		p.open(&f, "p", "", true)
	case "s", "sentence":
		p.open(&f, "s", "", true)
	case "break":
		p.text.WriteByte(' ')
		p.out.WriteString("<break" + breakAttrs(t) + "/>")
	case "emphasis":
		attrs := ""
		if lv := attr(t, "level"); oneOf(lv, "strong", "moderate", "none", "reduced") {
			attrs = ` level="` + lv + `"`
		}
		p.open(&f, "emphasis", attrs, false)
	case "prosody":
		attrs := ""
		for _, a := range []string{"rate", "pitch", "volume", "range"} {
			if v := attr(t, a); safeValue(v) {
				attrs += " " + a + `="` + v + `"`
			}
		}
		if attrs != "" {
			p.open(&f, "prosody", attrs, false)
		}
	case "say-as":
		switch strings.ToLower(attr(t, "interpret-as")) {
		case "characters", "spell-out", "letters", "tts:char":
			p.open(&f, "say-as", ` interpret-as="characters"`, false)
		}
	case "sub":
		if alias := cleanText(attr(t, "alias")); strings.TrimSpace(alias) != "" {
			p.out.WriteString(" " + escapeXML(alias) + " ")
			p.text.WriteString(" " + alias + " ")
			f.skip = true
		}
	case "voice", "lang":
		v := attr(t, "name")
		if name == "voice" && p.doc.voice == "" && v != "" {
			p.doc.voice = v
		}
		if name == "lang" {
			v = "" // <lang> changes the language, not the voice
		}
		f.voice = voiceFor(parent.voice, v, xmlLang(t), attr(t, "gender"))
		p.open(&f, "voice", ` name="`+escapeXML(p.mapVoice(f.voice))+`"`, true)
	case "audio", "metadata", "meta", "lexicon", "desc":
		f.skip = true
	case "phoneme", "w", "token", "mark":
		// keep the text, no separation
	default:
		p.drop(t.Name)
		f.space = true
	}
	p.stack = append(p.stack, f)
}

// open writes a start tag and makes f close it. A block element (p, s,
// voice) also separates its text from the text around it.
func (p *ssmlParser) open(f *ssmlFrame, tag, attrs string, block bool) {
	if block {
		p.text.WriteByte(' ')
	}
	p.out.WriteString("<" + tag + attrs + ">")
	f.close = "</" + tag + ">"
	f.space = block
}

// drop notes an element that is left out (its text is kept).
func (p *ssmlParser) drop(n xml.Name) {
	p.text.WriteByte(' ')
	p.out.WriteByte(' ')
	name := n.Local
	if n.Space != "" && !isSSMLName(n, n.Local) {
		name = "{" + n.Space + "}" + n.Local
	}
	if len(p.doc.dropped) < 8 && !slices.Contains(p.doc.dropped, name) {
		p.doc.dropped = append(p.doc.dropped, name)
	}
}

// voiceFor applies a <voice name xml:lang gender> (or <lang xml:lang>) to
// the voice in effect: a name brings its own locale and gender, xml:lang
// sets the locale when the name does not, gender overrides.
func voiceFor(parent voiceChoice, name, lang, gender string) voiceChoice {
	c := parent
	if name != "" {
		loc, short := splitVoiceName(name)
		c.gender = knownVoiceGender[voiceBase(short)]
		if loc == "" {
			loc = lang
		}
		if loc != "" {
			c.locale = loc
		}
	} else if lang != "" {
		c.locale = lang
	}
	if g := normGender(gender); g != "" {
		c.gender = g
	}
	return c
}

// isSSMLName reports whether n is local in no namespace or the SSML one.
func isSSMLName(n xml.Name, local string) bool {
	if n.Local != local {
		return false
	}
	s := strings.TrimSuffix(n.Space, "/")
	return s == "" || strings.HasSuffix(s, "://www.w3.org/2001/10/synthesis")
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

func xmlLang(t xml.StartElement) string {
	for _, a := range t.Attr {
		if a.Name.Local == "lang" && (a.Name.Space == xmlNamespace || a.Name.Space == "xml") {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// breakAttrs returns the sanitized attributes of a <break>: time clamped
// to maxBreakMS, or a known strength.
func breakAttrs(t xml.StartElement) string {
	if v := strings.ToLower(attr(t, "time")); v != "" {
		num, scale := v, 1.0
		switch {
		case strings.HasSuffix(v, "ms"):
			num = strings.TrimSuffix(v, "ms")
		case strings.HasSuffix(v, "s"):
			num, scale = strings.TrimSuffix(v, "s"), 1000
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err == nil && !math.IsNaN(f) && f >= 0 {
			ms := min(f*scale, maxBreakMS)
			return ` time="` + strconv.Itoa(int(ms)) + `ms"`
		}
	}
	if s := strings.ToLower(attr(t, "strength")); oneOf(s, "none", "x-weak", "weak", "medium", "strong", "x-strong") {
		return ` strength="` + s + `"`
	}
	return ""
}

// safeValue accepts short prosody values ("+20%", "x-slow", "1.5", "+2st").
func safeValue(v string) bool {
	if v == "" || len(v) > 24 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '+' || c == '-' || c == '%') {
			return false
		}
	}
	return true
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func escapeXML(s string) string { return xmlEscaper.Replace(s) }

func oneOf(s string, set ...string) bool { return slices.Contains(set, s) }
