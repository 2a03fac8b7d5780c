package tts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/switchboard-oss/switchboard/internal/speech/provider"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// HTTPOptions configures an OpenAI-compatible speech endpoint. Zero values
// mean the defaults.
type HTTPOptions struct {
	// BaseURL is the server, e.g. "https://api.openai.com": requests go to
	// {BaseURL}/v1/audio/speech (a BaseURL that already ends in /v1 is not
	// given a second one).
	BaseURL string
	// APIKey, when set, is sent as "Authorization: Bearer <APIKey>".
	APIKey string
	// Model is the "model" of the request. Default "tts-1".
	Model string
	// DefaultVoice is the provider voice for ACS voice names not in
	// VoiceMap. Default "alloy".
	DefaultVoice string
	// VoiceMap maps ACS voice names ("en-US-JennyNeural") to provider
	// voices; names are matched exactly, then case-insensitively.
	VoiceMap map[string]string
	// Timeout bounds one request. Default 30 s.
	Timeout time.Duration
	// MaxChars bounds the text sent. Default 4096.
	MaxChars int
	// MaxResponseBytes bounds the WAV accepted. Default 32 MiB.
	MaxResponseBytes int64
}

// Default HTTP provider settings.
const (
	DefaultHTTPModel            = "tts-1"
	DefaultHTTPVoice            = "alloy"
	DefaultHTTPTimeout          = 30 * time.Second
	DefaultHTTPMaxChars         = 4096
	DefaultHTTPMaxResponseBytes = 32 << 20
	errorBodyLimit              = 4096
)

// HTTPProvider synthesizes speech with an OpenAI-compatible
// POST /v1/audio/speech endpoint, asking for WAV. SSML is sent as its plain
// text. It is safe for concurrent use.
type HTTPProvider struct {
	endpoint string
	opts     HTTPOptions
	client   *http.Client
	log      *slog.Logger
}

// NewHTTPProvider returns a provider for opts.BaseURL, which must be an
// http(s) URL. A nil client means http.DefaultClient; a nil log discards
// logs.
func NewHTTPProvider(opts HTTPOptions, client *http.Client, log *slog.Logger) (*HTTPProvider, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if client == nil {
		client = http.DefaultClient
	}
	base, err := provider.BaseURL(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("tts: HTTP provider base URL %q is %v", opts.BaseURL, err)
	}
	if opts.Model == "" {
		opts.Model = DefaultHTTPModel
	}
	if opts.DefaultVoice == "" {
		opts.DefaultVoice = DefaultHTTPVoice
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultHTTPTimeout
	}
	if opts.MaxChars <= 0 {
		opts.MaxChars = DefaultHTTPMaxChars
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultHTTPMaxResponseBytes
	}
	return &HTTPProvider{endpoint: base + "/v1/audio/speech", opts: opts, client: client, log: log}, nil
}

// speechRequest is the JSON body of POST /v1/audio/speech.
type speechRequest struct {
	Model          string `json:"model"`
	Input          string `json:"input"`
	Voice          string `json:"voice"`
	ResponseFormat string `json:"response_format"`
}

// Synthesize posts r's text and returns the provider's WAV, normalized to
// a canonical mono 16-bit header. A non-2xx answer is a *ProviderError; a
// provider that cannot be reached is an error wrapping ErrUnavailable.
func (h *HTTPProvider) Synthesize(ctx context.Context, r Request) ([]byte, error) {
	body, err := h.prepare(r)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("tts: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, h.endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("tts: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "audio/wav")
	if h.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+h.opts.APIKey)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("tts: HTTP provider: %w", ctx.Err())
		}
		return nil, fmt.Errorf("%w: HTTP provider: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
		return nil, &ProviderError{Status: resp.StatusCode, Message: provider.ErrorMessage(excerpt)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, h.opts.MaxResponseBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("tts: HTTP provider: %w", ctx.Err())
		}
		return nil, fmt.Errorf("%w: HTTP provider: reading the answer: %w", ErrUnavailable, err)
	}
	if int64(len(data)) > h.opts.MaxResponseBytes {
		return nil, fmt.Errorf("%w: HTTP provider answer exceeds %d bytes", ErrTooLong, h.opts.MaxResponseBytes)
	}
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: HTTP provider answered %q (%d bytes), not a WAV file", errBadWAV, resp.Header.Get("Content-Type"), len(data))
	}
	wav, err := normalizeWAV(data)
	if err != nil {
		return nil, fmt.Errorf("tts: HTTP provider answer: %w", err)
	}
	h.log.Debug("tts: HTTP provider synthesized", "voice", body.Voice, "chars", utf8.RuneCountInString(body.Input), "wav_bytes", len(wav))
	return wav, nil
}

// prepare validates r and builds the request body.
func (h *HTTPProvider) prepare(r Request) (speechRequest, error) {
	ssml, err := r.isSSML()
	if err != nil {
		return speechRequest{}, err
	}
	text, voiceName := strings.TrimSpace(cleanText(r.Text)), r.VoiceName
	if ssml {
		if limit := maxSSMLBytes(h.opts.MaxChars); len(r.SSML) > limit {
			return speechRequest{}, fmt.Errorf("%w: %d bytes of SSML, at most %d", ErrTooLong, len(r.SSML), limit)
		}
		doc, err := parseSSML(r.SSML, r, nil)
		if err != nil {
			return speechRequest{}, err
		}
		text = doc.text
		if voiceName == "" {
			voiceName = doc.voice
		}
	}
	if text == "" {
		return speechRequest{}, ErrEmpty
	}
	if n := utf8.RuneCountInString(text); n > h.opts.MaxChars {
		return speechRequest{}, fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, n, h.opts.MaxChars)
	}
	return speechRequest{Model: h.opts.Model, Input: text, Voice: h.voice(voiceName), ResponseFormat: "wav"}, nil
}

// voice maps an ACS voice name to a provider voice.
func (h *HTTPProvider) voice(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return h.opts.DefaultVoice
	}
	if v, ok := h.opts.VoiceMap[name]; ok && v != "" {
		return v
	}
	for k, v := range h.opts.VoiceMap {
		if strings.EqualFold(k, name) && v != "" {
			return v
		}
	}
	return h.opts.DefaultVoice
}

// cacheKey identifies what the provider would be asked for r.
func (h *HTTPProvider) cacheKey(r Request) (string, bool) {
	b, err := h.prepare(r)
	if err != nil {
		return "", false
	}
	return "http\x00" + h.endpoint + "\x00" + b.Model + "\x00" + b.Voice + "\x00" + b.Input, true
}
