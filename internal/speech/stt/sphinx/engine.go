package sphinx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/vad"
)

// Engine recognizes English speech with PocketSphinx. It keeps up to
// MaxIdle decoders loaded between sessions. It is safe for concurrent use.
type Engine struct {
	opts  Options
	log   *slog.Logger
	avail error // nil when the binding is compiled in and the model files exist
	langs map[string]bool

	mu     sync.Mutex
	lex    *lexicon // decoy candidates, read from the LM by the first grammar session
	idle   []psDecoder
	loads  int           // decoders created
	loaded time.Duration // total time spent creating them
	closed bool
}

// New returns the engine. It never fails: an engine that cannot run (no
// binding in this build, model files missing) reports it from Available,
// Supports and Start as an error wrapping stt.ErrUnavailable that says
// what to install. Models are loaded by Warm or the first Start. A nil
// log discards logs.
func New(opts Options, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts.defaults()
	e := &Engine{opts: opts, log: log, langs: make(map[string]bool)}
	for _, l := range opts.Languages {
		if c, err := stt.CanonicalLanguage(l); err == nil {
			e.langs[c] = true
		}
	}
	e.avail = e.check()
	return e
}

// check reports whether the engine can run.
func (e *Engine) check() error {
	if !Compiled {
		return errNotCompiled
	}
	if e.opts.ModelRate != 8000 && e.opts.ModelRate != 16000 {
		return fmt.Errorf("%w: pocketsphinx: model rate %d Hz, want 8000 or 16000", stt.ErrUnavailable, e.opts.ModelRate)
	}
	for _, p := range []string{filepath.Join(e.opts.ModelDir, "mdef"), e.opts.Dict} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w: pocketsphinx model: %v (%s)", stt.ErrUnavailable, err, InstallHint)
		}
	}
	return nil
}

// Name is "pocketsphinx".
func (e *Engine) Name() string { return "pocketsphinx" }

// Available is nil when the engine can run, else an error wrapping
// stt.ErrUnavailable.
func (e *Engine) Available() error { return e.avail }

// Supports reports whether the engine recognizes language.
func (e *Engine) Supports(language string) error {
	if e.avail != nil {
		return e.avail
	}
	c, err := stt.CanonicalLanguage(language)
	if err != nil {
		return err
	}
	if e.langs[c] || e.langs[stt.PrimaryLanguage(c)] {
		return nil
	}
	return fmt.Errorf("%w: pocketsphinx has a model for %s, not %s", stt.ErrLanguage, strings.Join(e.opts.Languages, ", "), c)
}

// Warm loads n decoders (at most MaxIdle are kept) and the decoy
// lexicon, so that the first sessions do not wait for a model load, and
// returns how long one decoder load took on average.
func (e *Engine) Warm(n int) (time.Duration, error) {
	if e.avail != nil {
		return 0, e.avail
	}
	var decs []psDecoder
	for range min(n, e.opts.MaxIdle) {
		d, err := e.open()
		if err != nil {
			for _, d := range decs {
				e.release(d)
			}
			return 0, err
		}
		decs = append(decs, d)
	}
	if len(decs) > 0 {
		e.lexicon(decs[0])
	}
	for _, d := range decs {
		e.release(d)
	}
	return e.LoadTime(), nil
}

// LoadTime is the mean time a decoder took to load (0 before the first).
func (e *Engine) LoadTime() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.loads == 0 {
		return 0
	}
	return e.loaded / time.Duration(e.loads)
}

// Close frees the idle decoders; sessions still open free theirs when
// closed.
func (e *Engine) Close() {
	e.mu.Lock()
	idle := e.idle
	e.idle, e.closed = nil, true
	e.mu.Unlock()
	for _, d := range idle {
		d.free()
	}
}

// acquire returns an idle decoder or loads a new one.
func (e *Engine) acquire() (psDecoder, error) {
	e.mu.Lock()
	if n := len(e.idle); n > 0 {
		d := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return d, nil
	}
	e.mu.Unlock()
	return e.open()
}

func (e *Engine) open() (psDecoder, error) {
	start := e.opts.Now()
	d, err := openFunc(e.opts, e.log)
	if err != nil {
		if errors.Is(err, stt.ErrUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", stt.ErrUnavailable, err)
	}
	took := e.opts.Now().Sub(start)
	e.mu.Lock()
	e.loads++
	e.loaded += took
	e.mu.Unlock()
	e.log.Debug("sphinx: decoder loaded", "took", took)
	return d, nil
}

// lexicon returns the decoy candidates, reading them from the language
// model with d the first time. Without them (Decoys negative, or the
// model unreadable: logged once) grammars have no decoys.
func (e *Engine) lexicon(d psDecoder) lexicon {
	if e.opts.Decoys < 0 {
		return lexicon{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lex == nil {
		start := e.opts.Now()
		ugs, err := d.unigrams(e.opts.LM)
		if err != nil {
			e.log.Warn("sphinx: no decoys for out-of-grammar rejection: words outside a choices grammar will be matched to a phrase", "err", err)
		}
		l := newLexicon(ugs, d.pronunciation, e.opts.Decoys+lexiconSpare)
		e.lex = &l
		e.log.Debug("sphinx: decoy lexicon loaded", "words", len(l.words), "took", e.opts.Now().Sub(start))
	}
	return *e.lex
}

// release keeps d for reuse or frees it.
func (e *Engine) release(d psDecoder) {
	e.mu.Lock()
	if !e.closed && len(e.idle) < e.opts.MaxIdle {
		e.idle = append(e.idle, d)
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	d.free()
}

// Start takes a decoder (loading one when none is idle, which takes a
// model load: see Warm), sets it up for opts and starts the utterance.
// Audio may be 8 kHz (upsampled for a 16 kHz model) or the model's rate.
func (e *Engine) Start(ctx context.Context, opts stt.Options) (stt.Session, error) {
	if err := e.Supports(opts.Language); err != nil {
		return nil, err
	}
	rate := opts.Rate()
	if rate != e.opts.ModelRate && !(rate == 8000 && e.opts.ModelRate == 16000) {
		return nil, fmt.Errorf("%w: pocketsphinx: audio at %d Hz for a %d Hz model", stt.ErrInvalid, rate, e.opts.ModelRate)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sphinx: %w", err)
	}
	d, err := e.acquire()
	if err != nil {
		return nil, err
	}
	s := &session{eng: e, dec: d, phraseIdx: -1, phrases: opts.Phrases}
	if err := s.setup(opts, rate); err != nil {
		e.release(d) // the decoder is still usable
		return nil, err
	}
	return stt.NewStream(s, stt.StreamOptions{SampleRate: rate, Buffer: e.opts.Buffer, Now: e.opts.Now, Log: e.log}), nil
}

// session is the stt.Decoder of one utterance.
type session struct {
	eng       *Engine
	dec       psDecoder
	cond      *conditioner
	vad       *vad.Detector
	frame     []int16 // partial VAD frame
	heard     bool    // the VAD heard speech
	grammar   *grammar
	raw       []int16 // the session's audio, framed and decoded at Finish (not Streaming)
	rate      int
	phrases   []string
	phraseIdx int
	started   bool
}

func (s *session) setup(opts stt.Options, rate int) error {
	e := s.eng
	if opts.Grammar() {
		g, err := buildGrammar(opts.Phrases, s.dec.pronunciation, e.lexicon(s.dec), e.opts.Decoys, e.log)
		if err != nil {
			return err
		}
		if err := s.dec.useGrammar(g.jsgf); err != nil {
			return fmt.Errorf("%w: sphinx: grammar: %w", stt.ErrFailed, err)
		}
		s.grammar = &g
	} else if err := s.dec.useLM(e.opts.LM); err != nil {
		return fmt.Errorf("%w: sphinx: %w", stt.ErrUnavailable, err)
	}
	s.cond = newConditioner(rate != e.opts.ModelRate, e.opts.Dither)
	s.rate = rate
	v, err := vad.New(vad.Config{SampleRate: rate})
	if err != nil {
		return err
	}
	s.vad = v
	if err := s.dec.start(); err != nil {
		return fmt.Errorf("%w: sphinx: %w", stt.ErrFailed, err)
	}
	s.started = true
	return nil
}

func (s *session) Process(samples []int16) error {
	s.listen(samples)
	if !s.eng.opts.Streaming {
		s.raw = append(s.raw, samples...)
		return nil
	}
	if err := s.dec.process(s.cond.convert(samples), false); err != nil {
		return fmt.Errorf("%w: sphinx: %w", stt.ErrFailed, err)
	}
	return nil
}

// listen runs the VAD over whole frames of samples.
func (s *session) listen(samples []int16) {
	size := s.vad.Config().FrameSize
	for len(samples) > 0 {
		n := min(size-len(s.frame), len(samples))
		s.frame = append(s.frame, samples[:n]...)
		samples = samples[n:]
		if len(s.frame) == size {
			if s.vad.Process(s.frame).Kind == vad.SpeechStart {
				s.heard = true
			}
			s.frame = s.frame[:0]
		}
	}
}

func (s *session) Partial() (stt.Hypothesis, bool) {
	if !s.eng.opts.Streaming {
		return stt.Hypothesis{}, false
	}
	h := s.dec.hyp()
	if h == "" {
		return stt.Hypothesis{}, false
	}
	return stt.Hypothesis{Text: h}, true
}

func (s *session) Finish(ctx context.Context) (stt.Result, error) {
	res := stt.Result{PhraseIndex: -1}
	var tail []int16
	if s.eng.opts.Streaming {
		tail = s.cond.flush()
	} else {
		framed := frameSpeech(s.raw, s.rate, framePre, framePost)
		tail = append(slices.Clone(s.cond.convert(framed)), s.cond.flush()...)
	}
	if err := s.dec.process(tail, !s.eng.opts.Streaming); err != nil {
		return res, fmt.Errorf("%w: sphinx: %w", stt.ErrFailed, err)
	}
	s.started = false
	if err := s.dec.end(); err != nil {
		return res, fmt.Errorf("%w: sphinx: %w", stt.ErrFailed, err)
	}
	segs := s.dec.segments()
	res.Text = strings.Join(words(segs), " ")
	if s.grammar != nil {
		res.Confidence = grammarConfidence(segs)
		if i := s.grammar.phrase(res.Text); i >= 0 {
			res.PhraseIndex, res.Phrase = i, s.phrases[i]
		}
	} else {
		res.Confidence = freeConfidence(segs)
	}
	e := s.eng
	e.log.Debug("sphinx: utterance", "text", res.Text, "confidence", res.Confidence,
		"acoustic_per_frame", acousticPerFrame(segs), "speech_heard", s.heard)
	var err error
	switch {
	case !s.heard && !e.opts.NoSpeechGate:
		err = fmt.Errorf("%w: no speech heard", stt.ErrNoMatch)
	case res.Text == "":
		err = fmt.Errorf("%w: nothing recognized", stt.ErrNoMatch)
	case s.grammar != nil && res.PhraseIndex < 0:
		err = fmt.Errorf("%w: %q is not a phrase of the grammar", stt.ErrNoMatch, res.Text)
	case res.Confidence < e.opts.MinConfidence:
		err = fmt.Errorf("%w: %q with confidence %.2f (under %.2f)", stt.ErrNoMatch, res.Text, res.Confidence, e.opts.MinConfidence)
	}
	if err != nil {
		res.PhraseIndex, res.Phrase = -1, "" // what was heard stays in Text
	}
	return res, err
}

func (s *session) Close() {
	if s.started {
		s.dec.end() // leave the decoder idle for the next session
		s.started = false
	}
	s.eng.release(s.dec)
}

// words returns the words of segs, fillers dropped and alternate
// pronunciations ("read(2)") folded.
func words(segs []segment) []string {
	var out []string
	for _, s := range segs {
		if s.filler() {
			continue
		}
		w := s.word
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i]
		}
		out = append(out, w)
	}
	return out
}

var _ stt.Engine = (*Engine)(nil)
