// Package sphinx recognizes English speech offline with CMU PocketSphinx
// through a small cgo binding: grammar mode (ACS choices) with a JSGF
// grammar of the phrases, free speech with the en-US language model.
//
//	eng := sphinx.New(sphinx.Options{}, log)   // never fails
//	if err := eng.Available(); err != nil { … } // errors.Is(err, stt.ErrUnavailable)
//	eng.Warm(2)                                  // load decoders at startup
//	s, err := eng.Start(ctx, stt.Options{Language: "en-US", Phrases: []string{"billing", "sales"}})
//
// # Building
//
// The binding compiles only with the build tag pocketsphinx (and cgo):
//
//	apt install libpocketsphinx-dev pocketsphinx-en-us
//	go build -tags pocketsphinx ./...
//
// It links with pkg-config's pocketsphinx and sphinxbase. Without the tag
// (or without cgo) the package still builds: New returns an engine whose
// Available, Supports and Start report stt.ErrUnavailable saying how to
// get it, and Compiled is false. Written against PocketSphinx
// 0.8+5prealpha, the version Debian 12 ships (the 5.0 API differs).
//
// # API
//
//	const Compiled bool
//	type Options struct{ ModelDir, Dict, LM string; ModelRate int; Dither float64; Languages []string;
//		Decoys int; MinConfidence float64; NoSpeechGate, Streaming bool; MaxIdle int; Args []string; Buffer time.Duration; Now func() time.Time }
//	func New(opts Options, log *slog.Logger) *Engine
//	func (e *Engine) Name() string                      // "pocketsphinx"
//	func (e *Engine) Available() error
//	func (e *Engine) Supports(language string) error    // Languages, default "en" (any region)
//	func (e *Engine) Start(ctx context.Context, opts stt.Options) (stt.Session, error)
//	func (e *Engine) Warm(n int) (time.Duration, error)
//	func (e *Engine) LoadTime() time.Duration
//	func (e *Engine) Close()
//
// # Audio
//
// Debian packages only the wideband (16 kHz) en-US model. Decoding 8 kHz
// audio with it by configuring the front end for 8 kHz (-samprate 8000
// -nfft 256 -upperf ≤ 4000, which also needs a feat.params of one's own
// since the model's overrides -upperf) gives a filterbank the model was
// not trained on: measured near chance (about 1 word in 3 right on the
// six-choice test). So 8 kHz telephony audio is upsampled to 16 kHz (a
// half-band Kaiser-windowed sinc, 32 taps per phase) and the model runs
// with its own parameters. The empty band above 4 kHz and µ-law's
// digital silence give the model's filters log(0), so white noise of
// Options.Dither RMS (default 90, about -51 dBFS) is added. With a
// narrowband model (ModelRate 8000, e.g. cmusphinx en-us-8khz installed by
// hand) audio is decoded at 8 kHz with -samprate 8000 -nfft 256.
//
// By default a session buffers its audio and decodes the whole utterance
// in Finish (batch cepstral mean normalization), framed to the speech the
// vad package finds with 200 ms before and 300 ms after it (span.go), so
// that a word decodes the same whatever lead and tail of silence it came
// with. With Streaming it decodes as audio arrives and offers partial
// hypotheses. Batch measured better (six choices at 15 dB SNR: 93 %
// right against 76 %; free-speech WER 0.68 against 0.85) and costs little
// latency (grammar decoding runs at about 1 % of real time).
//
// Sessions run the vad package over their audio; an utterance with no
// speech onset is stt.ErrNoMatch whatever the decoder guessed (unless
// NoSpeechGate).
//
// # Decoders
//
// A decoder (ps_decoder_t) is not thread-safe; each session has its own,
// driven only from the session's goroutine (stt.NewStream). Loading one
// (acoustic model and dictionary) takes about 80 ms and 90 MiB resident;
// the language model adds about 150 ms on the decoder's first free-speech
// session. Up to MaxIdle decoders (default 2) are kept for reuse; the
// cepstral mean is reset to the model's initial estimate at each start so
// a session does not inherit the previous caller's channel. Start blocks
// for a load when no decoder is idle, so it must not run on the media
// clock (Warm at startup avoids the first waits).
//
// # Grammars
//
// Phrases are normalized with stt.Words and become one JSGF rule, with
// up to Options.Decoys (default 1000) of the language model's most
// frequent words as unlikely alternatives (decoys.go):
//
//	#JSGF V1.0;
//	grammar choices;
//	public <choice> = /1/ billing | /1/ customer service | /1e-40/ the | … ;
//
// A phrase with a word the dictionary lacks (ps_lookup_word) is left out
// with a warning; when none is left Start fails with stt.ErrInvalid
// naming the words. The words heard are mapped back to the phrase; a
// decoy heard is stt.ErrNoMatch, which is how speech outside the grammar
// is refused instead of being forced onto the nearest phrase.
//
// # Confidence
//
// See confidence.go. Grammar mode: PocketSphinx's lattice posterior is 1
// whatever was said, so the confidence of a phrase is a logistic of its
// words' acoustic score per frame, with MinConfidence (default 0.5) a
// floor for noise; free speech: the mean of the word posteriors of the
// best path (-bestpath yes). Under MinConfidence the result is
// stt.ErrNoMatch with the text kept.
package sphinx
