package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/audio"
	"github.com/switchboard-oss/switchboard/internal/call"
	"github.com/switchboard-oss/switchboard/internal/config"
	"github.com/switchboard-oss/switchboard/internal/speech/tts"
)

// newPrompts builds the prompt loader: the audio fetcher and the
// configured speech synthesizer. An espeak engine that is not installed
// leaves text-to-speech unavailable (text plays fail) with a warning; it
// does not stop the server.
func newPrompts(cfg config.Config, log *slog.Logger) (prompts, error) {
	hc := &http.Client{}
	p := prompts{files: audio.NewFetcher(hc, audio.FetcherOptions{
		MaxFileBytes: int64(cfg.Media.PromptMaxFileBytes), MaxCacheBytes: int64(cfg.Media.PromptCacheBytes),
	}, log.With("component", "prompts"))}
	var synth tts.Synthesizer
	switch cfg.Speech.TTSEngine {
	case "espeak":
		e, err := tts.NewEspeak(tts.EspeakOptions{Binary: cfg.Speech.EspeakPath}, log.With("component", "tts"))
		if err != nil {
			log.Warn("text-to-speech is unavailable: text and SSML plays will fail", "error", err, "hint", "apt-get install espeak-ng")
		} else {
			synth = e
		}
	case "http":
		h, err := tts.NewHTTPProvider(tts.HTTPOptions{BaseURL: cfg.Speech.TTSURL, APIKey: cfg.Speech.TTSAPIKey,
			Model: cfg.Speech.TTSModel, DefaultVoice: cfg.Speech.TTSVoice}, hc, log.With("component", "tts"))
		if err != nil {
			return p, fmt.Errorf("speech: %w", err)
		}
		synth = h
	}
	if synth != nil {
		p.tts = tts.NewCache(synth, int64(cfg.Speech.TTSCacheBytes))
	}
	return p, nil
}

// prompts is the call core's PromptLoader: files through the audio fetcher
// (cached, revalidated), text and SSML through the speech synthesizer
// (cached by content). Failures become the PlayFailed results ACS reports.
type prompts struct {
	files *audio.Fetcher
	tts   tts.Synthesizer // nil: speech disabled
}

func (p prompts) Load(ctx context.Context, src acs.PlaySource) (*audio.Prompt, error) {
	switch src.Kind {
	case "file":
		pr, err := p.files.Prompt(ctx, src.File.URI, src.CacheID)
		if err != nil {
			return nil, fileError(err)
		}
		return pr, nil
	case "text", "ssml":
		req := tts.Request{}
		if src.Kind == "text" {
			req.Text, req.VoiceName, req.Locale, req.VoiceKind = src.Text.Text, src.Text.VoiceName, src.Text.SourceLocale, src.Text.VoiceKind
		} else {
			req.SSML = src.SSML.SSMLText
		}
		if strings.TrimSpace(req.Text) == "" && strings.TrimSpace(req.SSML) == "" {
			return nil, &call.PlayError{Result: acs.ResultTextEmpty, Err: errors.New("empty text")}
		}
		if p.tts == nil {
			return nil, &call.PlayError{Result: acs.ResultSpeechError, Err: errors.New("text-to-speech is disabled (speech.ttsEngine: none)")}
		}
		wav, err := p.tts.Synthesize(ctx, req)
		if err != nil {
			return nil, speechError(err)
		}
		pr, err := audio.Decode(wav)
		if err != nil {
			return nil, &call.PlayError{Result: acs.ResultSpeechError, Err: fmt.Errorf("synthesized audio: %w", err)}
		}
		return pr, nil
	}
	return nil, &call.PlayError{Result: acs.ResultBadFile, Err: fmt.Errorf("play source kind %q", src.Kind)}
}

func fileError(err error) error {
	switch {
	case errors.Is(err, audio.ErrUnsupportedFormat), errors.Is(err, audio.ErrCorrupt), errors.Is(err, audio.ErrEmpty), errors.Is(err, audio.ErrTooLong):
		return &call.PlayError{Result: acs.ResultBadFile, Err: err}
	}
	return &call.PlayError{Result: acs.ResultDownloadFail, Err: err}
}

func speechError(err error) error {
	var pe *tts.ProviderError
	switch {
	case errors.Is(err, tts.ErrEmpty):
		return &call.PlayError{Result: acs.ResultTextEmpty, Err: err}
	case errors.As(err, &pe):
		res := acs.ResultSpeechError
		if pe.Status == 401 || pe.Status == 403 || pe.Status == 429 || pe.Status == 408 {
			res.Code = pe.Status
		}
		return &call.PlayError{Result: res, Err: err}
	}
	return &call.PlayError{Result: acs.ResultSpeechError, Err: err}
}
