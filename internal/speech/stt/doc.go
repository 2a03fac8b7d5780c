// Package stt is speech recognition for the recognize action of ACS Call
// Automation (speech and speechOrDtmf, free speech or choices): the
// interfaces every engine implements, a stream adapter that keeps a slow
// engine off the media clock, a concurrency limit and a router choosing
// the engine per language. It has no cgo; the engines live in
// subpackages: sphinx (PocketSphinx, offline, -tags pocketsphinx) and
// httpstt (an OpenAI-compatible transcription endpoint). Package vad
// finds the start and end of speech.
//
//	pool := stt.NewPool(sphinx.New(sphinx.Options{}, log), stt.PoolOptions{MaxSessions: 4})
//	r, err := stt.NewRouter(stt.RouterConfig{Default: "pocketsphinx", Languages: map[string]string{"es": "http"}},
//		map[string]stt.Engine{"pocketsphinx": pool, "http": cloud}, log)
//	s, err := r.Start(ctx, stt.Options{Language: "en-US", Phrases: []string{"billing", "sales"}})
//	defer s.Close()
//	s.Write(frame)               // 160 samples at 8 kHz, from the media clock: never waits
//	res, err := s.Finish(ctx)    // res.Phrase, res.PhraseIndex, res.Confidence
//
// # API
//
//	type Options struct{ Language string; Phrases []string; SampleRate int }
//	type Hypothesis struct{ Text string; Confidence float64 }
//	type Result struct{ Text string; Confidence float64; Phrase string; PhraseIndex int; Stats Stats }
//	type Stats struct{ Audio, Dropped, Decode time.Duration }
//	type Engine interface {
//		Name() string
//		Supports(language string) error
//		Start(ctx context.Context, opts Options) (Session, error)
//	}
//	type Session interface {
//		Write(samples []int16) error
//		Partial() (Hypothesis, bool)
//		Finish(ctx context.Context) (Result, error)
//		Close()
//	}
//	var ErrUnavailable, ErrLanguage, ErrBusy, ErrNoMatch, ErrOverflow, ErrClosed, ErrInvalid, ErrFailed error
//
//	type Decoder interface { Process([]int16) error; Partial() (Hypothesis, bool); Finish(context.Context) (Result, error); Close() }
//	func NewStream(dec Decoder, opts StreamOptions) Session
//	func NewPool(e Engine, opts PoolOptions) *Pool          // an Engine; Stats() PoolStats
//	func NewRouter(cfg RouterConfig, engines map[string]Engine, log *slog.Logger) (*Router, error) // an Engine; Engine(lang)
//	func CanonicalLanguage(tag string) (string, error)
//	func PrimaryLanguage(tag string) string
//	func Words(text string) []string
//	func EditDistance[T comparable](a, b []T) int
//	func MatchPhrases(transcript string, phrases []string) Match
//
// # Sessions and the media clock
//
// Engines build their sessions with NewStream: Write copies the samples
// into a ring buffer (Buffer, 10 s by default) under a mutex and wakes the
// session's own goroutine, which hands them to the engine's Decoder in
// chunks of up to 100 ms; Write never allocates and never waits for the
// decoder. When the decoder is so far behind that the buffer is full, the
// samples of that Write are dropped, counted in Stats.Dropped, and Write
// returns an error wrapping ErrOverflow (the caller may log it and go on).
// Write must not be called concurrently with itself; Partial, Finish and
// Close may be called from any goroutine. Decoder methods all run on the
// session goroutine, so an engine whose library is not thread-safe needs
// no locking. Close waits for that goroutine (at most one chunk's decode,
// or a Finish it cancels).
//
// # Errors
//
// Every error wraps one of the sentinels, for mapping to ACS result
// subcodes: ErrUnavailable (engine not installed or unreachable),
// ErrLanguage (no engine for the language), ErrBusy (Pool full: MaxSessions
// open and MaxWaiting queued, or no slot within MaxWait), ErrNoMatch
// (nothing recognized, too little confidence, no phrase matched — the
// Result still carries the Text that was heard), ErrInvalid (unusable
// options, such as a grammar with no phrase the engine can hear),
// ErrFailed (the engine ran and failed: decoder error, provider error,
// timeout), ErrOverflow (audio dropped) and ErrClosed (session used after
// Finish or Close). A context that ends is returned wrapped as well.
//
// # Grammar matching
//
// Words normalizes text (lower case, letters, digits and inner
// apostrophes). MatchPhrases scores each phrase as recall × (0.75 + 0.25
// × precision) over those words: 1 for the exact phrase, at least 0.75 for
// the phrase within a longer sentence, lower for partial phrases; a tie
// between two phrases halves the score.
//
// # Pool and Router
//
// Pool admits MaxSessions sessions at once (default 4); further Starts
// wait in a FIFO queue of at most MaxWaiting (default MaxSessions) for at
// most MaxWait (default 2 s); beyond the queue Start fails at once with
// ErrBusy. A session's slot is freed by Close. Router maps a language to
// an engine name: an override for the full tag ("es-MX"), else for the
// primary language ("es"), else Default; the engine must then Support the
// language. Tags are compared canonically (en_us = en-US).
package stt
