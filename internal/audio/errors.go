package audio

import "errors"

// Sentinel errors. Returned errors wrap one of these with details; test
// them with errors.Is.
var (
	// ErrUnsupportedFormat reports bytes that are not audio this package
	// knows: not RIFF/WAVE or MPEG Layer III, or a WAV whose codec, sample
	// rate or channel count is not supported.
	ErrUnsupportedFormat = errors.New("audio: unsupported format")
	// ErrCorrupt reports a WAV or MP3 file that is recognised but cannot
	// be decoded (missing or malformed chunks, broken frames).
	ErrCorrupt = errors.New("audio: corrupt file")
	// ErrEmpty reports a file that decodes to no samples.
	ErrEmpty = errors.New("audio: no samples")
	// ErrTooLong reports a file whose decoded audio would be longer than
	// the configured maximum duration.
	ErrTooLong = errors.New("audio: too long")
	// ErrTooLarge reports a download larger than FetcherOptions.MaxFileBytes.
	ErrTooLarge = errors.New("audio: file too large")
	// ErrDownload reports a failed download: bad URL or scheme, unreachable
	// host, timeout, or a non-2xx HTTP status (included in the message).
	ErrDownload = errors.New("audio: download failed")
)
