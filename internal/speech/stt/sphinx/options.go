package sphinx

import (
	"path/filepath"
	"time"
)

// Options configure the PocketSphinx engine. Zero values mean the
// defaults, which fit Debian 12's pocketsphinx-en-us package.
type Options struct {
	// ModelDir is the acoustic model (a directory with mdef, means,
	// feat.params …). Default DefaultModelDir.
	ModelDir string
	// Dict is the pronunciation dictionary. Default DefaultDict.
	Dict string
	// LM is the language model for free speech (ARPA, DMP or .lm.bin).
	// Default DefaultLM.
	LM string
	// ModelRate is the sample rate the acoustic model was trained at:
	// 16000 (the default, Debian's wideband en-us model) or 8000 (a
	// narrowband model such as en-us-8khz). 8 kHz telephony audio is
	// upsampled for a 16 kHz model (see the package documentation).
	ModelRate int
	// Dither is the RMS (16-bit units) of the white noise added to the
	// decoder's input (see the package documentation). Default 90;
	// negative: none.
	Dither float64
	// Languages are the language tags the model recognizes: a primary
	// language ("en") accepts every region. Default ["en"].
	Languages []string
	// Decoys is how many of the language model's most frequent words a
	// choices grammar offers besides its phrases, so that words outside
	// it are rejected rather than matched to a phrase (see decoys.go).
	// Default DefaultDecoys; negative: none.
	Decoys int
	// MinConfidence is the confidence under which a result is ErrNoMatch.
	// Default 0.5.
	MinConfidence float64
	// NoSpeechGate turns off the voice-activity gate: by default an
	// utterance in which the detector heard no speech is ErrNoMatch
	// without consulting the decoder's guess.
	NoSpeechGate bool
	// Streaming decodes audio as it arrives, which gives partial
	// hypotheses and a final result sooner after a long utterance, but
	// normalizes the channel from the model's prior estimate (live
	// cepstral mean normalization, reset for each session). By default
	// the session only buffers audio and decodes the whole utterance at
	// Finish with the mean of the utterance itself (batch CMN), which
	// measured markedly better on short answers in noise.
	Streaming bool
	// MaxIdle is how many decoders (each holding the models, tens of MiB)
	// are kept for reuse. Default 2.
	MaxIdle int
	// Args are extra decoder arguments ("-beam", "1e-60" …), applied
	// after the engine's own (-hmm, -dict, -samprate, -bestpath yes,
	// -lw 10).
	Args []string
	// Buffer bounds the audio queued ahead of a session's decoder.
	// Default stt.DefaultStreamBuffer.
	Buffer time.Duration
	// Now is the clock for decode-time measurements. Default time.Now.
	Now func() time.Time
}

// Default model locations (Debian 12: pocketsphinx-en-us).
const (
	DefaultModelRoot = "/usr/share/pocketsphinx/model/en-us"
	DefaultMinConf   = 0.5
	DefaultDither    = 90.0
	DefaultMaxIdle   = 2
	DefaultDecoys    = 1000
)

// Default model files.
var (
	DefaultModelDir = filepath.Join(DefaultModelRoot, "en-us")
	DefaultDict     = filepath.Join(DefaultModelRoot, "cmudict-en-us.dict")
	DefaultLM       = filepath.Join(DefaultModelRoot, "en-us.lm.bin")
)

// InstallHint says how to get the engine.
const InstallHint = "apt install libpocketsphinx-dev pocketsphinx-en-us and build with -tags pocketsphinx"

func (o *Options) defaults() {
	if o.ModelDir == "" {
		o.ModelDir = DefaultModelDir
	}
	if o.Dict == "" {
		o.Dict = DefaultDict
	}
	if o.LM == "" {
		o.LM = DefaultLM
	}
	if o.ModelRate == 0 {
		o.ModelRate = 16000
	}
	if o.Dither == 0 {
		o.Dither = DefaultDither
	}
	if len(o.Languages) == 0 {
		o.Languages = []string{"en"}
	}
	if o.Decoys == 0 {
		o.Decoys = DefaultDecoys
	}
	if o.MinConfidence == 0 {
		o.MinConfidence = DefaultMinConf
	}
	if o.MaxIdle == 0 {
		o.MaxIdle = DefaultMaxIdle
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
