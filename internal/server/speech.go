package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchboard-oss/switchboard/internal/config"
	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/httpstt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/sphinx"
)

// newRecognizer builds the speech-recognition engine recognize uses: the
// configured engines behind a per-language router and a concurrency pool.
// It returns nil when speech recognition is off. An engine that cannot run
// (PocketSphinx not compiled in or not installed) is logged, and recognize
// requests that need it fail with the reason.
func newRecognizer(cfg config.Speech, hc *http.Client, log *slog.Logger) (stt.Engine, error) {
	if cfg.STTEngine == "none" && len(cfg.STTHTTPLanguages) == 0 {
		return nil, nil
	}
	engines := map[string]stt.Engine{}
	rc := stt.RouterConfig{Languages: map[string]string{}}
	if cfg.STTEngine != "none" {
		rc.Default = cfg.STTEngine
	}
	if cfg.STTEngine == "sphinx" {
		decoys := cfg.SphinxDecoys
		if decoys == 0 {
			decoys = -1 // sphinx.Options: 0 is its default, negative none
		}
		e := sphinx.New(sphinx.Options{Decoys: decoys}, log.With("engine", "pocketsphinx"))
		if err := e.Available(); err != nil {
			log.Warn("speech recognition is unavailable: speech recognize requests will fail", "error", err, "hint", sphinx.InstallHint)
		} else if cfg.SphinxWarm > 0 {
			go warmSphinx(e, cfg.SphinxWarm, log)
		}
		engines["sphinx"] = e
	}
	if cfg.STTEngine == "http" || len(cfg.STTHTTPLanguages) > 0 {
		h, err := httpstt.New(httpstt.Options{BaseURL: cfg.STTURL, APIKey: cfg.STTAPIKey, Model: cfg.STTModel}, hc, log.With("engine", "http"))
		if err != nil {
			return nil, fmt.Errorf("speech: %w", err)
		}
		engines["http"] = h
		for _, l := range cfg.STTHTTPLanguages {
			rc.Languages[l] = "http"
		}
	}
	r, err := stt.NewRouter(rc, engines, log)
	if err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	return stt.NewPool(r, stt.PoolOptions{MaxSessions: cfg.STTMaxConcurrent}), nil
}

// warmSphinx loads decoders in the background, so that startup does not
// wait for it and the first recognitions do not wait for a model load.
func warmSphinx(e *sphinx.Engine, n int, log *slog.Logger) {
	start := time.Now()
	load, err := e.Warm(n)
	if err != nil {
		log.Warn("pocketsphinx: warming failed; decoders will load on first use", "error", err)
		return
	}
	log.Info("pocketsphinx warmed", "decoders", n, "load_each", load, "took", time.Since(start))
}
