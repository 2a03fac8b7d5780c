package stt

import (
	"context"
	"errors"
	"time"
)

// TelephonySampleRate is the rate of the audio the media engine hands to
// recognizers: 16-bit mono, 160-sample (20 ms) frames.
const TelephonySampleRate = 8000

// Options describe one utterance to recognize.
type Options struct {
	// Language is a BCP-47 tag such as "en-US".
	Language string
	// Phrases, when not empty, is the grammar: the utterance is one of
	// these phrases (ACS choices, flattened), and Result.PhraseIndex says
	// which. Empty means free speech.
	Phrases []string
	// SampleRate is the rate of the audio that will be written. Zero means
	// TelephonySampleRate.
	SampleRate int
}

// Grammar reports whether the options ask for grammar (choices) mode.
func (o Options) Grammar() bool { return len(o.Phrases) > 0 }

// Rate returns SampleRate, or TelephonySampleRate when it is zero.
func (o Options) Rate() int {
	if o.SampleRate <= 0 {
		return TelephonySampleRate
	}
	return o.SampleRate
}

// Hypothesis is what an engine heard: Text (lower-case words for most
// engines) and a Confidence from 0 to 1.
type Hypothesis struct {
	Text       string
	Confidence float64
}

// Result is the final hypothesis of a session.
type Result struct {
	// Text is the transcript; in grammar mode, the words the engine heard.
	Text string
	// Confidence, 0 to 1, is the engine's estimate that Text (or, in
	// grammar mode, Phrase) is what was said.
	Confidence float64
	// Phrase and PhraseIndex (an index into Options.Phrases) are the
	// phrase that matched, in grammar mode; PhraseIndex is -1 otherwise.
	Phrase      string
	PhraseIndex int
	// Stats describe the work done.
	Stats Stats
}

// Stats describe a session: how much audio it was given, how much it had
// to drop, and how long its engine spent decoding.
type Stats struct {
	Audio   time.Duration // audio accepted by Write
	Dropped time.Duration // audio Write refused because the engine was behind
	Decode  time.Duration // time spent in the engine (Process and Finish)
}

// Engine recognizes speech. Implementations are safe for concurrent use.
type Engine interface {
	// Name identifies the engine in logs and errors ("pocketsphinx", "http").
	Name() string
	// Supports reports whether the engine can recognize language: nil, or
	// an error wrapping ErrLanguage (not this language) or ErrUnavailable
	// (the engine cannot run at all, with what to install).
	Supports(language string) error
	// Start begins recognizing one utterance. It may block while the
	// engine loads a model, so it must not be called on the media clock.
	// The session must be closed.
	Start(ctx context.Context, opts Options) (Session, error)
}

// Session recognizes one utterance.
type Session interface {
	// Write queues samples (at Options.SampleRate) for the decoder. It
	// never waits for the decoder: it copies the samples into a bounded
	// buffer and returns. When the buffer is full the samples are dropped
	// (counted in Stats.Dropped) and the error wraps ErrOverflow; after
	// Finish or Close it wraps ErrClosed; after the decoder failed it
	// returns that failure. Write must not be called concurrently with
	// itself.
	Write(samples []int16) error
	// Partial returns the latest interim hypothesis, when the engine has
	// one. It never waits for the decoder.
	Partial() (Hypothesis, bool)
	// Finish ends the utterance and returns the final result once the
	// decoder has caught up. An utterance with nothing recognized, or
	// recognized with too little confidence, is an error wrapping
	// ErrNoMatch; the Result then still holds what was heard, if
	// anything. Later calls return the same outcome.
	Finish(ctx context.Context) (Result, error)
	// Close abandons the session (when Finish was not called or has not
	// returned) and releases the decoder. It may be called more than once.
	Close()
}

var (
	// ErrUnavailable is an engine that cannot run: a library or model not
	// installed, a provider that cannot be reached.
	ErrUnavailable = errors.New("stt: engine unavailable")
	// ErrLanguage is a language no configured engine recognizes.
	ErrLanguage = errors.New("stt: language not supported")
	// ErrBusy is a session refused because the engine is running its
	// maximum number of sessions and its wait queue is full.
	ErrBusy = errors.New("stt: too many concurrent recognitions")
	// ErrNoMatch is an utterance in which nothing was recognized, or not
	// confidently enough, or (grammar mode) nothing that matches a phrase.
	ErrNoMatch = errors.New("stt: no match")
	// ErrOverflow is audio dropped because the decoder was too far behind.
	ErrOverflow = errors.New("stt: decoder behind, audio dropped")
	// ErrClosed is a session used after Finish or Close.
	ErrClosed = errors.New("stt: session closed")
	// ErrInvalid is options an engine cannot use: a sample rate it does not
	// take, a grammar with no usable phrase.
	ErrInvalid = errors.New("stt: invalid options")
	// ErrFailed is an engine that ran and failed: a decoder error, a
	// provider that answered with an error, timed out or sent nonsense.
	ErrFailed = errors.New("stt: recognition failed")
)
