package tts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// EspeakOptions configures the espeak-ng engine. Zero values mean the
// defaults.
type EspeakOptions struct {
	// Binary is the espeak-ng executable: a path, or a name looked up in
	// PATH. Default "espeak-ng".
	Binary string
	// Timeout bounds one espeak-ng run. Default 20 s.
	Timeout time.Duration
	// MaxConcurrent bounds the espeak-ng processes running at once; more
	// requests wait for a slot (or their context). Default 4.
	MaxConcurrent int
	// MaxChars bounds the characters of a text request, or the spoken text
	// of an SSML request (whose markup may be up to 16 times larger).
	// Default 5000.
	MaxChars int
	// MaxOutputBytes bounds the WAV espeak-ng may produce. Default 64 MiB
	// (about 25 minutes at 22050 Hz).
	MaxOutputBytes int64
	// Rate is the speaking rate of text requests in words per minute
	// (80–450, espeak-ng -s); SSML uses <prosody> instead. Default: 0,
	// espeak-ng's own (175).
	Rate int
}

// Default espeak-ng limits.
const (
	DefaultEspeakTimeout  = 20 * time.Second
	DefaultEspeakMaxProcs = 4
	DefaultMaxChars       = 5000
	DefaultMaxOutputBytes = 64 << 20
)

const (
	espeakProbeTimeout = 5 * time.Second
	espeakStderrLimit  = 2048
	espeakMinRate      = 80
	espeakMaxRate      = 450
)

// Espeak synthesizes speech offline by running espeak-ng as a separate
// process for each request. The text is written to its standard input,
// never passed as an argument. It is safe for concurrent use.
type Espeak struct {
	bin    string
	opts   EspeakOptions
	log    *slog.Logger
	sem    chan struct{}
	voices map[string]bool // installed voices; nil when unknown
}

// NewEspeak finds espeak-ng and checks that it runs (espeak-ng --voices).
// A missing or broken binary is an error wrapping ErrUnavailable. A nil
// log discards logs.
func NewEspeak(opts EspeakOptions, log *slog.Logger) (*Espeak, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Binary == "" {
		opts.Binary = "espeak-ng"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultEspeakTimeout
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultEspeakMaxProcs
	}
	if opts.MaxChars <= 0 {
		opts.MaxChars = DefaultMaxChars
	}
	if opts.MaxOutputBytes <= 0 {
		opts.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if opts.Rate != 0 {
		opts.Rate = min(max(opts.Rate, espeakMinRate), espeakMaxRate)
	}
	bin, err := exec.LookPath(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("%w: espeak-ng: %v", ErrUnavailable, err)
	}
	e := &Espeak{bin: bin, opts: opts, log: log, sem: make(chan struct{}, opts.MaxConcurrent)}
	ctx, cancel := context.WithTimeout(context.Background(), espeakProbeTimeout)
	defer cancel()
	out, err := e.run(ctx, espeakProbeTimeout, []string{"--voices"}, "", 1<<20)
	if err != nil {
		return nil, fmt.Errorf("%w: %s --voices: %v", ErrUnavailable, bin, err)
	}
	e.voices = parseVoiceList(string(out))
	log.Debug("tts: espeak-ng ready", "binary", bin, "voices", len(e.voices))
	return e, nil
}

// Synthesize runs espeak-ng for r and returns its WAV (22050 Hz mono
// 16-bit with the standard espeak-ng data) with the header sizes fixed.
func (e *Espeak) Synthesize(ctx context.Context, r Request) ([]byte, error) {
	args, input, err := e.prepare(r)
	if err != nil {
		return nil, err
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("tts: espeak-ng: waiting for a free process slot: %w", ctx.Err())
	}
	defer func() { <-e.sem }()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tts: espeak-ng: %w", err)
	}
	raw, stderr, err := e.runStderr(ctx, e.opts.Timeout, args, input, e.opts.MaxOutputBytes)
	if err != nil {
		return nil, err
	}
	wav, err := normalizeWAV(raw)
	if err != nil {
		return nil, fmt.Errorf("tts: espeak-ng output: %w%s", err, stderrSuffix(stderr))
	}
	if len(wav) == wavHeaderSize {
		return nil, fmt.Errorf("%w: espeak-ng produced no audio", ErrEmpty)
	}
	e.log.Debug("tts: espeak-ng synthesized", "args", strings.Join(args, " "), "input_bytes", len(input), "wav_bytes", len(wav))
	return wav, nil
}

// prepare validates r and returns espeak-ng's arguments and its input.
func (e *Espeak) prepare(r Request) (args []string, input string, err error) {
	ssml, err := r.isSSML()
	if err != nil {
		return nil, "", err
	}
	args = []string{"--stdout", "-b", "1", "--stdin"}
	if !ssml {
		text := strings.TrimSpace(cleanText(r.Text))
		if text == "" {
			return nil, "", ErrEmpty
		}
		if n := utf8.RuneCountInString(text); n > e.opts.MaxChars {
			return nil, "", fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, n, e.opts.MaxChars)
		}
		args = append(args, "-v", e.voice(chooseVoice(r.VoiceName, r.Locale, r.VoiceKind)))
		if e.opts.Rate != 0 {
			args = append(args, "-s", strconv.Itoa(e.opts.Rate))
		}
		return args, text, nil
	}
	if limit := maxSSMLBytes(e.opts.MaxChars); len(r.SSML) > limit {
		return nil, "", fmt.Errorf("%w: %d bytes of SSML, at most %d", ErrTooLong, len(r.SSML), limit)
	}
	doc, err := parseSSML(r.SSML, r, e.voice)
	if err != nil {
		return nil, "", err
	}
	if n := utf8.RuneCountInString(doc.text); n > e.opts.MaxChars {
		return nil, "", fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, n, e.opts.MaxChars)
	}
	if len(doc.dropped) > 0 {
		e.log.Debug("tts: SSML elements espeak-ng does not support were dropped (their text is kept)", "elements", doc.dropped)
	}
	return append(args, "-m", "-v", e.voice(doc.base)), doc.espeak, nil
}

// voice maps c to an installed espeak-ng voice, logging fallbacks.
func (e *Espeak) voice(c voiceChoice) string {
	v, fellBack := e.voiceName(c)
	if fellBack {
		e.log.Debug("tts: no espeak-ng voice for the locale; using the default", "locale", c.locale, "voice", v)
	}
	return v
}

// voiceName maps c to an espeak-ng voice, falling back to the language
// and then to en-us when the mapped voice is not installed.
func (e *Espeak) voiceName(c voiceChoice) (voice string, fellBack bool) {
	lang, known := espeakLanguage(c.locale)
	if e.voices != nil && !e.voices[lang] {
		if l, _, ok := strings.Cut(lang, "-"); ok && e.voices[l] {
			lang = l
		} else {
			lang, known = defaultEspeakVoice, false
		}
	}
	return lang + c.variant(), !known
}

// cacheKey identifies what espeak-ng would say for r: the text (or SSML)
// and the voice it maps to.
func (e *Espeak) cacheKey(r Request) (string, bool) {
	ssml, err := r.isSSML()
	if err != nil {
		return "", false
	}
	v, _ := e.voiceName(chooseVoice(r.VoiceName, r.Locale, r.VoiceKind))
	if ssml {
		return "espeak\x00ssml\x00" + v + "\x00" + r.SSML, true
	}
	return "espeak\x00text\x00" + v + "\x00" + strings.TrimSpace(cleanText(r.Text)), true
}

// run runs espeak-ng with args, input on its standard input, and returns
// its standard output (at most maxOut bytes).
func (e *Espeak) run(ctx context.Context, timeout time.Duration, args []string, input string, maxOut int64) ([]byte, error) {
	out, _, err := e.runStderr(ctx, timeout, args, input, maxOut)
	return out, err
}

func (e *Espeak) runStderr(ctx context.Context, timeout time.Duration, args []string, input string, maxOut int64) (stdout []byte, stderr string, err error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, e.bin, args...)
	cmd.Stdin = strings.NewReader(input)
	outBuf := &boundedBuffer{max: maxOut}
	errBuf := &boundedBuffer{max: espeakStderrLimit, truncate: true}
	cmd.Stdout, cmd.Stderr = outBuf, errBuf
	cmd.WaitDelay = time.Second // do not wait for pipes a killed process left open
	err = cmd.Run()
	stderr = errBuf.String()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, stderr, fmt.Errorf("tts: espeak-ng: %w", ctx.Err())
	case rctx.Err() != nil:
		return nil, stderr, fmt.Errorf("tts: espeak-ng timed out after %v: %w", timeout, rctx.Err())
	case outBuf.overflow:
		return nil, stderr, fmt.Errorf("%w: espeak-ng output exceeds %d bytes", ErrTooLong, maxOut)
	case errors.As(err, &exitErr):
		return nil, stderr, fmt.Errorf("tts: espeak-ng: %v%s", err, stderrSuffix(stderr))
	case err != nil:
		return nil, stderr, fmt.Errorf("%w: espeak-ng: %v", ErrUnavailable, err)
	}
	return outBuf.Bytes(), stderr, nil
}

func stderrSuffix(stderr string) string {
	s := strings.Join(strings.Fields(cleanText(stderr)), " ")
	if s == "" {
		return ""
	}
	return " (stderr: " + s + ")"
}
