package stt

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// RouterConfig chooses an engine per language, by engine name.
type RouterConfig struct {
	// Default is the engine for languages without an override; empty
	// means none (only the overridden languages are recognized).
	Default string
	// Languages maps a language tag to an engine name. A full tag
	// ("es-MX") takes precedence over a primary language ("es").
	Languages map[string]string
}

// Router is an Engine that hands each session to the engine configured
// for its language.
type Router struct {
	engines   map[string]Engine
	def       string
	overrides map[string]string // canonical tag → engine name
	log       *slog.Logger
}

// NewRouter checks cfg against engines (by name) and returns the router.
// A name or language tag that is not known is an error. A nil log
// discards logs.
func NewRouter(cfg RouterConfig, engines map[string]Engine, log *slog.Logger) (*Router, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Router{engines: engines, def: cfg.Default, overrides: make(map[string]string), log: log}
	known := func(name string) error {
		if engines[name] == nil {
			return fmt.Errorf("stt: no speech-recognition engine named %q (have: %s)", name, strings.Join(r.names(), ", "))
		}
		return nil
	}
	if cfg.Default != "" {
		if err := known(cfg.Default); err != nil {
			return nil, fmt.Errorf("default engine: %w", err)
		}
	}
	for tag, name := range cfg.Languages {
		c, err := CanonicalLanguage(tag)
		if err != nil {
			return nil, fmt.Errorf("stt: engine for language %q: %w", tag, err)
		}
		if err := known(name); err != nil {
			return nil, fmt.Errorf("engine for %s: %w", c, err)
		}
		r.overrides[c] = name
	}
	return r, nil
}

func (r *Router) names() []string {
	var n []string
	for k := range r.engines {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

// Name is "router".
func (r *Router) Name() string { return "router" }

// Engine returns the engine configured for language and checks that it
// supports it: an error wraps ErrLanguage when no engine is configured for
// the language or the configured one does not recognize it, ErrUnavailable
// when the configured engine cannot run.
func (r *Router) Engine(language string) (Engine, error) {
	c, err := CanonicalLanguage(language)
	if err != nil {
		return nil, err
	}
	name, ok := r.overrides[c]
	if !ok {
		name, ok = r.overrides[PrimaryLanguage(c)]
	}
	if !ok {
		name = r.def
	}
	if name == "" {
		return nil, fmt.Errorf("%w: no speech-recognition engine is configured for %s", ErrLanguage, c)
	}
	e := r.engines[name]
	if err := e.Supports(c); err != nil {
		return nil, fmt.Errorf("stt: engine %q for %s: %w", name, c, err)
	}
	return e, nil
}

// Supports reports whether the engine for language supports it.
func (r *Router) Supports(language string) error {
	_, err := r.Engine(language)
	return err
}

// Start starts a session on the engine for opts.Language.
func (r *Router) Start(ctx context.Context, opts Options) (Session, error) {
	e, err := r.Engine(opts.Language)
	if err != nil {
		return nil, err
	}
	r.log.Debug("stt: routing", "language", opts.Language, "engine", e.Name(), "grammar", opts.Grammar())
	return e.Start(ctx, opts)
}

var (
	_ Engine = (*Pool)(nil)
	_ Engine = (*Router)(nil)
)
