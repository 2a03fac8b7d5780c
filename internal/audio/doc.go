// Package audio turns play sources into audio for the media engine: it
// downloads WAV and MP3 files (the file sources of ACS's play action),
// decodes them to 16-bit mono PCM at the engine's 8 kHz, caches the
// results and plays them out frame by frame.
//
// # Shape
//
//	fetch := audio.NewFetcher(nil, audio.FetcherOptions{}, log)
//	p1, err := fetch.Prompt(ctx, "https://example.com/welcome.wav", "")
//	p2, err := fetch.Prompt(ctx, url2, "menu-v3") // ACS playSourceCacheId
//	pl := audio.NewPlayer([]*audio.Prompt{p1, p2}, false)
//	leg.SetSource(pl)                             // media.FrameSource
//	<-pl.Done()                                   // played out (or stopped)
//	if pl.Stopped() { ... }                       // cancelled by Stop
//
// Fetching, decoding and resampling happen on the caller's goroutine (or
// the shared download's), never on the media clock: the Player only
// copies samples that are already decoded.
//
// # API
//
//	type Prompt struct{ Samples []int16 }        // 8 kHz mono, immutable
//	func (p *Prompt) Duration() time.Duration
//	func Tone(freqHz float64, dur time.Duration, amplitude int16) *Prompt
//
//	func Decode(b []byte) (*Prompt, error)
//	func DecodeWith(b []byte, opt DecodeOptions) (*Prompt, error)
//	func Resample(dst, src []int16, fromRate, toRate int) []int16
//
//	func NewFetcher(client *http.Client, opt FetcherOptions, log *slog.Logger) *Fetcher
//	func (f *Fetcher) Prompt(ctx context.Context, url, cacheID string) (*Prompt, error)
//
//	func NewPlayer(prompts []*Prompt, loop bool) *Player
//	func (p *Player) ReadFrame(dst []int16) (n int, done bool)
//	func (p *Player) Stop()
//	func (p *Player) Stopped() bool
//	func (p *Player) Index() int
//	func (p *Player) Position() int64
//	func (p *Player) Done() <-chan struct{}
//
// Errors wrap the sentinels ErrUnsupportedFormat, ErrCorrupt, ErrEmpty,
// ErrTooLong (decoding), ErrTooLarge and ErrDownload (fetching).
//
// # Decoding
//
// Decode sniffs the bytes, not the URL or Content-Type: RIFF/WAVE, or MP3
// by a leading ID3v2 tag or MPEG frame header. WAV covers PCM 8/16/24/32
// bit, IEEE float 32/64, A-law and µ-law (bit-exact G.711, package g711)
// and WAVE_FORMAT_EXTENSIBLE with those subformats, 1 to 8 channels and
// 4 to 96 kHz; unknown chunks are skipped and a data chunk longer than the
// file is truncated to it. MP3 (MPEG-1/2 Layer III) is decoded by go-mp3.
// Channels are averaged. Output longer than DecodeOptions.MaxDuration
// (default 10 minutes) is refused with ErrTooLong before it is decoded.
// The decoder never panics on hostile input.
//
// # Resampling
//
// Rates are converted by a polyphase Kaiser-windowed sinc filter with its
// cutoff inside the lower rate's band: flat to 43 % of the lower rate
// (3.44 kHz at 8 kHz) and at least 60 dB down from its Nyquist frequency on,
// so downsampling does not alias. Filters for recently used rate pairs are
// cached.
//
// # Caching
//
// See Fetcher: an LRU of decoded prompts bounded by bytes of samples, keyed
// by URL or cache ID, revalidated with conditional GETs after MaxAge or the
// server's Cache-Control max-age, with one shared download per key.
package audio
