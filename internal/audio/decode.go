package audio

import (
	"fmt"
	"time"
)

// DecodeOptions tunes decoding.
type DecodeOptions struct {
	// MaxDuration refuses files whose decoded audio is longer, with
	// ErrTooLong. Zero means DefaultMaxDuration.
	MaxDuration time.Duration
}

// Decode decodes a WAV or MP3 file into a Prompt at SampleRate, mono,
// with the default options. See DecodeWith.
func Decode(b []byte) (*Prompt, error) {
	return DecodeWith(b, DecodeOptions{})
}

// DecodeWith sniffs the format of b and decodes it into a Prompt at
// SampleRate, mono: channels are averaged and the rate is converted with
// Resample's filter.
//
// Recognised formats:
//
//   - RIFF/WAVE with PCM (8-bit unsigned, 16-, 24- and 32-bit signed),
//     IEEE float (32- and 64-bit), A-law and µ-law, plain or as
//     WAVE_FORMAT_EXTENSIBLE subformats; 1 to 8 channels; 4 to 96 kHz.
//   - MPEG-1 and MPEG-2 Layer III (MP3), optionally behind ID3v2 tags,
//     recognised by the tag or by a frame header at the start.
//
// Errors wrap ErrUnsupportedFormat (not one of these), ErrCorrupt
// (recognised but undecodable), ErrEmpty (no samples, including empty
// input) or ErrTooLong. DecodeWith never panics, whatever b holds; it does
// not keep or modify b.
func DecodeWith(b []byte, opt DecodeOptions) (*Prompt, error) {
	maxDur := opt.MaxDuration
	if maxDur <= 0 {
		maxDur = DefaultMaxDuration
	}
	maxSamples := max(durationSamples(maxDur), 1)
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("%w: empty input", ErrEmpty)
	case isWAV(b):
		return decodeWAV(b, maxSamples)
	case looksLikeMP3(b):
		return decodeMP3(b, maxSamples)
	}
	return nil, fmt.Errorf("%w: neither RIFF/WAVE nor MP3", ErrUnsupportedFormat)
}
