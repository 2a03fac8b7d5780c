// Package httpstt recognizes speech with an OpenAI-compatible
// transcription endpoint: POST {BaseURL}/v1/audio/transcriptions, a
// multipart form with the utterance as a WAV file.
//
//	eng, err := httpstt.New(httpstt.Options{BaseURL: "http://whisper:8000", Model: "whisper-1"}, nil, log)
//	s, err := eng.Start(ctx, stt.Options{Language: "en-US", Phrases: []string{"billing", "sales"}})
//	s.Write(frame) …                 // buffered; nothing is sent yet
//	res, err := s.Finish(ctx)        // one request with the whole utterance
//
// # Request
//
// Form fields: file (a RIFF/WAVE file, 16-bit mono PCM at the session's
// rate, named utterance.wav), model, language (the primary subtag of the
// BCP-47 tag, "en" for "en-US", which is ISO 639-1 for languages that
// have a two-letter code; left out for three-letter ones so the provider
// detects the language), response_format=json, and prompt when set: the
// configured Prompt, and in grammar mode the phrases ("Billing, Sales,
// Support."), which biases Whisper-style models towards them. APIKey, when
// set, is sent as "Authorization: Bearer …". The answer is JSON with a
// "text" field; optional "segments" with "avg_logprob" (verbose_json) give
// the confidence of free speech as exp(mean avg_logprob), else it is 1.
//
// # Grammar mode
//
// The transcript is matched against the phrases with stt.MatchPhrases
// (normalized words; 1 for the exact phrase, at least 0.75 for the phrase
// inside a longer sentence, partial overlaps lower, ties halved); the
// score is the Confidence, and under MinScore the result is ErrNoMatch.
//
// # Errors
//
// An utterance in which the voice-activity detector heard no speech is
// ErrNoMatch without any request (transcription models invent text for
// silence). A provider that cannot be reached: stt.ErrUnavailable. A
// non-2xx answer: *ProviderError (wrapping stt.ErrFailed). A timeout: an
// error wrapping both stt.ErrFailed and context.DeadlineExceeded. An
// answer that is not the expected JSON: stt.ErrFailed. An empty
// transcript: stt.ErrNoMatch. Audio past MaxAudio is dropped (Write
// returns stt.ErrOverflow).
package httpstt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	speechprovider "github.com/switchboard-oss/switchboard/internal/speech/provider"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/vad"
)

// Options configure the provider. Zero values mean the defaults.
type Options struct {
	// BaseURL is the server, e.g. "https://api.openai.com": requests go to
	// {BaseURL}/v1/audio/transcriptions (a BaseURL that already ends in
	// /v1 is not given a second one).
	BaseURL string
	// APIKey, when set, is sent as "Authorization: Bearer <APIKey>".
	APIKey string
	// Model is the form's "model". Default "whisper-1".
	Model string
	// Prompt, when set, is sent as the form's "prompt" (before the phrases
	// in grammar mode).
	Prompt string
	// NoPhrasePrompt stops sending the grammar's phrases as the prompt.
	NoPhrasePrompt bool
	// Languages restricts the languages accepted (tags or primary
	// languages); empty accepts every well-formed tag.
	Languages []string
	// MinScore is the grammar match score under which a transcript is
	// ErrNoMatch. Default 0.5.
	MinScore float64
	// Timeout bounds one request. Default 30 s.
	Timeout time.Duration
	// MaxAudio bounds the audio of one utterance. Default 60 s.
	MaxAudio time.Duration
	// MaxResponseBytes bounds the answer read. Default 1 MiB.
	MaxResponseBytes int64
	// NoSpeechGate sends every utterance, even one in which the
	// voice-activity detector heard no speech.
	NoSpeechGate bool
	// Now is the clock for decode-time measurements. Default time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultModel            = "whisper-1"
	DefaultMinScore         = 0.5
	DefaultTimeout          = 30 * time.Second
	DefaultMaxAudio         = 60 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	errorBodyLimit          = 4096
)

// ProviderError is a provider that answered with a non-2xx status.
// Message is a short excerpt of its answer. It wraps stt.ErrFailed.
type ProviderError struct {
	Status  int
	Message string
}

func (e *ProviderError) Error() string {
	s := "httpstt: provider answered HTTP " + strconv.Itoa(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap makes errors.Is(err, stt.ErrFailed) true.
func (e *ProviderError) Unwrap() error { return stt.ErrFailed }

// Engine is the provider. It is safe for concurrent use.
type Engine struct {
	endpoint string
	opts     Options
	client   *http.Client
	log      *slog.Logger
	langs    map[string]bool
}

// New returns a provider for opts.BaseURL, which must be an http(s) URL. A
// nil client means http.DefaultClient; a nil log discards logs.
func New(opts Options, client *http.Client, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if client == nil {
		client = http.DefaultClient
	}
	base, err := speechprovider.BaseURL(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("httpstt: base URL %q is %v", opts.BaseURL, err)
	}
	if opts.Model == "" {
		opts.Model = DefaultModel
	}
	if opts.MinScore == 0 {
		opts.MinScore = DefaultMinScore
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxAudio <= 0 {
		opts.MaxAudio = DefaultMaxAudio
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Engine{endpoint: base + "/v1/audio/transcriptions", opts: opts, client: client, log: log}
	if len(opts.Languages) > 0 {
		e.langs = make(map[string]bool)
		for _, l := range opts.Languages {
			c, err := stt.CanonicalLanguage(l)
			if err != nil {
				return nil, fmt.Errorf("httpstt: %w", err)
			}
			e.langs[c] = true
		}
	}
	return e, nil
}

// Name is "http".
func (e *Engine) Name() string { return "http" }

// Supports accepts well-formed tags, restricted to Options.Languages when
// set.
func (e *Engine) Supports(language string) error {
	c, err := stt.CanonicalLanguage(language)
	if err != nil {
		return err
	}
	if e.langs == nil || e.langs[c] || e.langs[stt.PrimaryLanguage(c)] {
		return nil
	}
	return fmt.Errorf("%w: the HTTP provider is configured for other languages than %s", stt.ErrLanguage, c)
}

// Start begins an utterance: the audio is buffered and sent by Finish.
func (e *Engine) Start(ctx context.Context, opts stt.Options) (stt.Session, error) {
	if err := e.Supports(opts.Language); err != nil {
		return nil, err
	}
	rate := opts.Rate()
	if rate < 8000 || rate > 48000 {
		return nil, fmt.Errorf("%w: httpstt: sample rate %d Hz", stt.ErrInvalid, rate)
	}
	if opts.Grammar() && len(stt.Words(strings.Join(opts.Phrases, " "))) == 0 {
		return nil, fmt.Errorf("%w: httpstt: the grammar's phrases have no words", stt.ErrInvalid)
	}
	d := &decoder{
		eng:   e,
		opts:  opts,
		rate:  rate,
		limit: int(e.opts.MaxAudio * time.Duration(rate) / time.Second),
	}
	if !e.opts.NoSpeechGate {
		v, err := vad.New(vad.Config{SampleRate: rate})
		if err != nil {
			return nil, fmt.Errorf("%w: httpstt: %w", stt.ErrInvalid, err)
		}
		d.vad = v
	}
	return stt.NewStream(d, stt.StreamOptions{SampleRate: rate, Now: e.opts.Now, Log: e.log}), nil
}

// decoder buffers one utterance and transcribes it on Finish.
type decoder struct {
	eng     *Engine
	opts    stt.Options
	rate    int
	limit   int // samples
	pcm     []int16
	dropped bool
	vad     *vad.Detector
	frame   []int16
	heard   bool
}

func (d *decoder) Process(samples []int16) error {
	if room := d.limit - len(d.pcm); len(samples) > room {
		if !d.dropped {
			d.eng.log.Warn("httpstt: utterance longer than MaxAudio; the rest is dropped", "max", d.eng.opts.MaxAudio)
			d.dropped = true
		}
		samples = samples[:max(room, 0)]
	}
	d.pcm = append(d.pcm, samples...)
	if d.vad != nil && !d.heard {
		size := d.vad.Config().FrameSize
		for len(samples) > 0 && !d.heard {
			n := min(size-len(d.frame), len(samples))
			d.frame = append(d.frame, samples[:n]...)
			samples = samples[n:]
			if len(d.frame) == size {
				d.heard = d.vad.Process(d.frame).Kind == vad.SpeechStart
				d.frame = d.frame[:0]
			}
		}
	}
	return nil
}

func (d *decoder) Partial() (stt.Hypothesis, bool) { return stt.Hypothesis{}, false }

func (d *decoder) Close() { d.pcm = nil }

// transcription is the provider's answer.
type transcription struct {
	Text     *string `json:"text"`
	Segments []struct {
		AvgLogprob *float64 `json:"avg_logprob"`
	} `json:"segments"`
}

func (d *decoder) Finish(ctx context.Context) (stt.Result, error) {
	res := stt.Result{PhraseIndex: -1}
	if d.vad != nil && !d.heard {
		return res, fmt.Errorf("%w: no speech heard", stt.ErrNoMatch)
	}
	tr, err := d.eng.transcribe(ctx, d.opts, encodeWAV(d.rate, d.pcm))
	if err != nil {
		return res, err
	}
	res.Text = strings.TrimSpace(*tr.Text)
	res.Confidence = 1
	var sum float64
	n := 0
	for _, s := range tr.Segments {
		if s.AvgLogprob != nil {
			sum += *s.AvgLogprob
			n++
		}
	}
	if n > 0 {
		res.Confidence = min(1, math.Exp(sum/float64(n)))
	}
	if len(stt.Words(res.Text)) == 0 {
		return res, fmt.Errorf("%w: the provider heard nothing", stt.ErrNoMatch)
	}
	if !d.opts.Grammar() {
		return res, nil
	}
	m := stt.MatchPhrases(res.Text, d.opts.Phrases)
	res.Confidence = m.Score
	if m.Index < 0 || m.Score < d.eng.opts.MinScore {
		return res, fmt.Errorf("%w: %q matches no phrase (best score %.2f, under %.2f)", stt.ErrNoMatch, res.Text, m.Score, d.eng.opts.MinScore)
	}
	res.PhraseIndex, res.Phrase = m.Index, d.opts.Phrases[m.Index]
	return res, nil
}

// transcribe posts one utterance.
func (e *Engine) transcribe(ctx context.Context, opts stt.Options, wav []byte) (transcription, error) {
	body, contentType, err := e.form(opts, wav)
	if err != nil {
		return transcription{}, fmt.Errorf("%w: httpstt: %w", stt.ErrFailed, err)
	}
	rctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, e.endpoint, bytes.NewReader(body))
	if err != nil {
		return transcription{}, fmt.Errorf("%w: httpstt: %w", stt.ErrFailed, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if e.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.opts.APIKey)
	}
	start := e.opts.Now()
	resp, err := e.client.Do(req)
	if err != nil {
		return transcription{}, e.requestErr(ctx, rctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
		return transcription{}, &ProviderError{Status: resp.StatusCode, Message: speechprovider.ErrorMessage(excerpt)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, e.opts.MaxResponseBytes+1))
	if err != nil {
		return transcription{}, e.requestErr(ctx, rctx, err)
	}
	if int64(len(data)) > e.opts.MaxResponseBytes {
		return transcription{}, fmt.Errorf("%w: httpstt: answer exceeds %d bytes", stt.ErrFailed, e.opts.MaxResponseBytes)
	}
	var tr transcription
	if err := json.Unmarshal(data, &tr); err != nil || tr.Text == nil {
		if err == nil {
			err = errors.New(`no "text" field`)
		}
		return transcription{}, fmt.Errorf("%w: httpstt: the answer (%s) is not a transcription: %v", stt.ErrFailed, speechprovider.Shorten(string(data), 80), err)
	}
	e.log.Debug("httpstt: transcribed", "wav_bytes", len(wav), "took", e.opts.Now().Sub(start), "chars", len(*tr.Text))
	return tr, nil
}

// requestErr classifies a failed request.
func (e *Engine) requestErr(ctx, rctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("httpstt: %w", ctx.Err())
	case rctx.Err() != nil:
		return fmt.Errorf("%w: httpstt: no answer within %v: %w", stt.ErrFailed, e.opts.Timeout, context.DeadlineExceeded)
	}
	return fmt.Errorf("%w: httpstt: %w", stt.ErrUnavailable, err)
}

// form builds the multipart body.
func (e *Engine) form(opts stt.Options, wav []byte) ([]byte, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, err := w.CreateFormFile("file", "utterance.wav")
	if err != nil {
		return nil, "", err
	}
	if _, err := fw.Write(wav); err != nil {
		return nil, "", err
	}
	fields := [][2]string{{"model", e.opts.Model}, {"response_format", "json"}}
	if l := stt.PrimaryLanguage(opts.Language); len(l) == 2 {
		fields = append(fields, [2]string{"language", l})
	}
	if p := e.prompt(opts); p != "" {
		fields = append(fields, [2]string{"prompt", p})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}

// prompt is the configured prompt, then the grammar's phrases.
func (e *Engine) prompt(opts stt.Options) string {
	p := strings.TrimSpace(e.opts.Prompt)
	if opts.Grammar() && !e.opts.NoPhrasePrompt {
		var phrases []string
		for _, ph := range opts.Phrases {
			if ph = strings.Join(strings.Fields(ph), " "); ph != "" {
				phrases = append(phrases, ph)
			}
		}
		if len(phrases) > 0 {
			if p != "" {
				p += " "
			}
			p += strings.Join(phrases, ", ") + "."
		}
	}
	return p
}

// encodeWAV returns a canonical 44-byte-header RIFF/WAVE file of 16-bit
// mono PCM.
func encodeWAV(rate int, pcm []int16) []byte {
	b := make([]byte, 44+2*len(pcm))
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+2*len(pcm)))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], 1) // PCM
	le.PutUint16(b[22:], 1) // mono
	le.PutUint32(b[24:], uint32(rate))
	le.PutUint32(b[28:], uint32(2*rate))
	le.PutUint16(b[32:], 2)
	le.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(2*len(pcm)))
	for i, s := range pcm {
		le.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}

var _ stt.Engine = (*Engine)(nil)
