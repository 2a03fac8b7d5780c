package tts

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Request is one thing to say: exactly one of Text and SSML is set.
// VoiceName ("en-US-NancyNeural"), Locale ("en-US") and VoiceKind ("male",
// "female") come from an ACS text source and select the voice; for SSML the
// document's <speak xml:lang> and <voice> elements take precedence over
// Locale and VoiceName.
type Request struct {
	Text      string
	SSML      string
	VoiceName string
	Locale    string
	VoiceKind string
}

// Synthesizer turns a Request into speech.
type Synthesizer interface {
	// Synthesize returns a RIFF/WAVE file of 16-bit PCM mono at the
	// engine's native sample rate, with a canonical 44-byte header whose
	// sizes match the data. The caller decodes and resamples it and may
	// modify the returned slice.
	Synthesize(ctx context.Context, r Request) (wav []byte, err error)
}

var (
	// ErrEmpty is a request with nothing to say (no text, only whitespace,
	// or SSML without text).
	ErrEmpty = errors.New("tts: nothing to say")
	// ErrInvalidSSML is SSML that is not well-formed XML with a <speak>
	// root, or that uses a DOCTYPE or entities.
	ErrInvalidSSML = errors.New("tts: invalid SSML")
	// ErrUnavailable is an engine that cannot run: espeak-ng missing or
	// broken, an HTTP provider that cannot be reached.
	ErrUnavailable = errors.New("tts: engine unavailable")
	// ErrTooLong is input or output over the engine's limits.
	ErrTooLong = errors.New("tts: input too long")
	// ErrInvalidRequest is a request with both Text and SSML set.
	ErrInvalidRequest = errors.New("tts: exactly one of text and SSML must be set")
)

// ProviderError is an HTTP provider that answered with a non-2xx status
// (401/403 for bad credentials, 429 for throttling, 5xx ...). Message is a
// short excerpt of its answer.
type ProviderError struct {
	Status  int
	Message string
}

func (e *ProviderError) Error() string {
	s := "tts: provider answered HTTP " + strconv.Itoa(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// isSSML validates the Text/SSML choice of r.
func (r Request) isSSML() (bool, error) {
	switch {
	case r.Text != "" && r.SSML != "":
		return false, ErrInvalidRequest
	case r.SSML != "":
		if strings.TrimSpace(r.SSML) == "" {
			return false, ErrEmpty
		}
		return true, nil
	case strings.TrimSpace(r.Text) == "":
		return false, ErrEmpty
	}
	return false, nil
}

// cleanText makes s valid UTF-8 without control characters (other than
// newline and tab), so that no engine sees bytes it could misread.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, " ")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r) || r == utf8.RuneError || r == '\uFEFF':
			return ' '
		}
		return r
	}, s)
}
