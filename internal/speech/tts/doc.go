// Package tts synthesizes the text and SSML play sources of ACS Call
// Automation into WAV audio: offline with espeak-ng (run as a separate
// process, never linked) or with an OpenAI-compatible HTTP endpoint, behind
// a content-addressed cache.
//
//	eng, err := tts.NewEspeak(tts.EspeakOptions{}, log) // errors.Is(err, tts.ErrUnavailable): no espeak-ng
//	synth := tts.NewCache(eng, 64<<20)
//	wav, err := synth.Synthesize(ctx, tts.Request{Text: "Hello", VoiceName: "en-US-NancyNeural"})
//
// # API
//
//	type Request struct{ Text, SSML, VoiceName, Locale, VoiceKind string }
//	type Synthesizer interface {
//		Synthesize(ctx context.Context, r Request) (wav []byte, err error)
//	}
//	var ErrEmpty, ErrInvalidSSML, ErrUnavailable, ErrTooLong, ErrInvalidRequest error
//	type ProviderError struct{ Status int; Message string }
//
//	func NewEspeak(opts EspeakOptions, log *slog.Logger) (*Espeak, error)
//	func (e *Espeak) Synthesize(ctx context.Context, r Request) ([]byte, error)
//	func MapVoice(r Request) (espeakVoice string)
//
//	func NewHTTPProvider(opts HTTPOptions, client *http.Client, log *slog.Logger) (*HTTPProvider, error)
//	func (h *HTTPProvider) Synthesize(ctx context.Context, r Request) ([]byte, error)
//
//	func NewCache(s Synthesizer, maxBytes int64) Synthesizer
//
// Every Synthesizer returns a RIFF/WAVE file of 16-bit PCM mono at the
// engine's native rate (22050 Hz for espeak-ng, whatever the provider
// sends, typically 24000 Hz) with a canonical 44-byte header whose sizes
// match the data; the caller decodes and resamples it.
//
// # Errors
//
// ErrEmpty: nothing to say. ErrInvalidSSML: not well-formed XML with a
// <speak> root, or a DOCTYPE/entity declaration. ErrTooLong: text over
// MaxChars, or output over its bound. ErrUnavailable: espeak-ng missing or
// not runnable, HTTP provider unreachable. *ProviderError: the HTTP
// provider answered non-2xx (401/403/429/5xx …), with a short excerpt of
// its message. ErrInvalidRequest: both Text and SSML set.
//
// # espeak-ng
//
// Each request runs `espeak-ng --stdout -b 1 --stdin -v <voice> [-s rate]`
// (plus -m for SSML) with the text written to standard input, so text such
// as "--help" or "-w file" is spoken, not parsed. At most MaxConcurrent
// processes run at once; each is killed when its context ends or Timeout
// passes, its output is bounded, and its standard error is quoted in
// errors. espeak-ng writes placeholder RIFF sizes when streaming to a pipe;
// the header is rebuilt from the bytes actually received.
//
// Voices: the locale comes from the voice name's prefix ("en-US-NancyNeural"),
// else Locale, else en-US, and maps to an espeak-ng language (en-US → en-us,
// es-MX → es-419, zh-CN → cmn …; unknown → en-us, logged at debug). The
// gender comes from VoiceKind, else a table of well-known Azure neural voices
// (JennyNeural female, GuyNeural male …), and selects the +f3 or +m3
// variant; an unknown voice name gets the locale's default voice. Voices
// that espeak-ng --voices does not list fall back to their language, then
// en-us.
//
// # SSML
//
// SSML is parsed (encoding/xml, strict, no DTDs or custom entities, depth
// ≤ 32) before espeak-ng runs and rewritten into the subset espeak-ng
// understands: speak, p, s, break (time clamped to 10 s), emphasis,
// prosody (rate, pitch, volume, range), say-as interpret-as="characters",
// and voice. <voice name> and <lang xml:lang> become espeak-ng voices
// through the same mapping; <speak xml:lang> sets the starting locale;
// <sub> is replaced by its alias; <audio> (with its fallback text),
// metadata, meta, lexicon and desc are skipped; anything else — Azure's
// mstts:* elements, phoneme, unknown elements — is dropped with its text
// kept. The HTTP provider is sent the document's plain text and, when the
// request has no VoiceName, the first <voice name>.
//
// # Cache
//
// NewCache keys WAVs by a SHA-256 of what the engine would be asked (text
// or SSML and the mapped voice, so en-US-JennyNeural and en-US-AriaNeural
// share espeak-ng audio), evicts least recently used entries beyond
// maxBytes, shares one synthesis between concurrent identical requests and
// never caches errors.
package tts
