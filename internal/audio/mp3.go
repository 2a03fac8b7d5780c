package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"
)

// mpegHeader is a parsed MPEG audio frame header.
type mpegHeader struct {
	mpeg1     bool // MPEG-1; otherwise MPEG-2 (LSF)
	rate      int
	frameSize int // bytes, header included
	samples   int // samples per channel in the frame
}

// MPEG audio header fields.
const (
	mpegV25      = 0
	mpegV2       = 2
	mpegV1       = 3
	mpegLayerIII = 1
)

var (
	mp3Bitrates = [2][16]int{ // kbit/s; [0] MPEG-1, [1] MPEG-2
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1},
	}
	mp3Rates = [4]int{44100, 48000, 32000, 0}
)

// errNotMPEG distinguishes "not an MPEG audio header at all" from
// "MPEG audio that this package does not decode".
var errNotMPEG = errors.New("not an MPEG audio frame header")

// parseMPEGHeader parses the 4-byte frame header at b. It returns
// errNotMPEG for bytes that are no MPEG audio header and an
// ErrUnsupportedFormat error for MPEG audio other than MPEG-1/2 Layer III
// with a fixed bitrate (the formats go-mp3 decodes).
func parseMPEGHeader(b []byte) (mpegHeader, error) {
	var h mpegHeader
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return h, errNotMPEG
	}
	version := int(b[1]>>3) & 3
	layer := int(b[1]>>1) & 3
	bitrateIdx := int(b[2] >> 4)
	rateIdx := int(b[2]>>2) & 3
	padding := int(b[2]>>1) & 1
	if version == 1 || layer == 0 || bitrateIdx == 15 || rateIdx == 3 {
		return h, errNotMPEG // reserved values (this is also how ADTS AAC looks)
	}
	if layer != mpegLayerIII {
		return h, fmt.Errorf("%w: MPEG audio layer %d (only Layer III is supported)", ErrUnsupportedFormat, 4-layer)
	}
	if version == mpegV25 {
		return h, fmt.Errorf("%w: MPEG-2.5 audio", ErrUnsupportedFormat)
	}
	if bitrateIdx == 0 {
		return h, fmt.Errorf("%w: free-format MP3", ErrUnsupportedFormat)
	}
	h.mpeg1 = version == mpegV1
	lsf := 0
	if !h.mpeg1 {
		lsf = 1
	}
	h.rate = mp3Rates[rateIdx] >> lsf
	bitrate := mp3Bitrates[lsf][bitrateIdx] * 1000
	h.samples = 1152 >> lsf
	h.frameSize = (144>>lsf)*bitrate/h.rate + padding
	return h, nil
}

// skipID3v2 returns b after any leading ID3v2 tags, or an error for a tag
// whose header is malformed or whose size runs past the end.
func skipID3v2(b []byte) ([]byte, error) {
	for len(b) >= 3 && string(b[:3]) == "ID3" {
		if len(b) < 10 {
			return nil, fmt.Errorf("%w: mp3: truncated ID3v2 header", ErrCorrupt)
		}
		if b[3] == 0xFF || b[4] == 0xFF || (b[6]|b[7]|b[8]|b[9])&0x80 != 0 {
			return nil, fmt.Errorf("%w: mp3: malformed ID3v2 header", ErrCorrupt)
		}
		size := 10 + (int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9]))
		if b[5]&0x10 != 0 { // footer present
			size += 10
		}
		if size > len(b) {
			return nil, fmt.Errorf("%w: mp3: ID3v2 tag runs past the end", ErrCorrupt)
		}
		b = b[size:]
	}
	return b, nil
}

// maxTagGap is how far past an ID3v2 tag the first frame is looked for.
const maxTagGap = 64 << 10

// resyncMPEG returns the offset of the first frame header in b that is
// followed by a second header of the same stream (or by the end of b), or
// -1.
func resyncMPEG(b []byte) int {
	for i := 0; i+4 <= len(b); i++ {
		if b[i] != 0xFF {
			continue
		}
		h, err := parseMPEGHeader(b[i:])
		if err != nil {
			continue
		}
		next := i + h.frameSize
		if next == len(b) {
			return i
		}
		if h2, err := parseMPEGHeader(b[min(next, len(b)):]); err == nil && h2.mpeg1 == h.mpeg1 && h2.rate == h.rate {
			return i
		}
	}
	return -1
}

// looksLikeMP3 reports whether b starts with an ID3v2 tag or an MPEG audio
// frame header.
func looksLikeMP3(b []byte) bool {
	if len(b) >= 3 && string(b[:3]) == "ID3" {
		return true
	}
	_, err := parseMPEGHeader(b)
	return err != errNotMPEG
}

// decodeMP3 decodes an MP3 file with go-mp3.
//
// Before decoding, the frames are walked from the first one (after any
// ID3v2 tags) while headers chain up with the same version and sample rate;
// decoding stops at the first byte that breaks the chain (a trailing ID3v1
// tag, junk, or a stream with another sample rate). This bounds the work
// and lets ErrTooLong be reported before anything is decoded.
func decodeMP3(b []byte, maxSamples int) (p *Prompt, err error) {
	defer func() {
		if r := recover(); r != nil { // go-mp3 on hostile input
			p, err = nil, fmt.Errorf("%w: mp3: decoder failure: %v", ErrCorrupt, r)
		}
	}()
	tagged := len(b) >= 3 && string(b[:3]) == "ID3"
	b, err = skipID3v2(b)
	if err != nil {
		return nil, err
	}
	first, err := parseMPEGHeader(b)
	if err == errNotMPEG && tagged {
		// Some taggers leave padding between the tag and the audio.
		if i := resyncMPEG(b[:min(len(b), maxTagGap)]); i > 0 {
			b = b[i:]
			first, err = parseMPEGHeader(b)
		}
	}
	if err == errNotMPEG {
		return nil, fmt.Errorf("%w: mp3: no frame after the ID3 tag", ErrCorrupt)
	}
	if err != nil {
		return nil, err
	}
	frames, end := 0, 0
	for end < len(b) {
		h, err := parseMPEGHeader(b[end:])
		if err != nil || h.mpeg1 != first.mpeg1 || h.rate != first.rate {
			break
		}
		frames++
		end += h.frameSize
	}
	end = min(end, len(b))
	srcSamples := int64(frames) * int64(first.samples)
	expect := srcSamples
	if first.rate != SampleRate {
		expect = getKernel(first.rate, SampleRate).outputs(srcSamples)
	}
	if expect > int64(maxSamples) {
		return nil, fmt.Errorf("%w: mp3: exceeds the limit of %v", ErrTooLong, samplesDuration(maxSamples))
	}

	// Hide io.Seeker so that go-mp3 does not walk the frames again.
	d, err := mp3.NewDecoder(struct{ io.Reader }{bytes.NewReader(b[:end])})
	if err != nil {
		return nil, fmt.Errorf("%w: mp3: %v", ErrCorrupt, err)
	}
	if d.SampleRate() != first.rate {
		return nil, fmt.Errorf("%w: mp3: decoder reports %d Hz, header says %d Hz", ErrCorrupt, d.SampleRate(), first.rate)
	}
	rs := newStreamResampler(first.rate, int(expect), maxSamples)
	var (
		raw  [4096]byte // 16-bit little-endian stereo from go-mp3
		mono [len(raw) / 4]float32
		have int
		got  int // samples decoded so far
	)
	for !rs.over {
		n, rerr := d.Read(raw[have:])
		have += n
		whole := have / 4
		got += whole
		for i := 0; i < whole; i++ {
			l := int16(binary.LittleEndian.Uint16(raw[4*i:]))
			r := int16(binary.LittleEndian.Uint16(raw[4*i+2:]))
			mono[i] = (float32(l) + float32(r)) / 2
		}
		rs.write(mono[:whole])
		have = copy(raw[:], raw[whole*4:have])
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if got == 0 {
				return nil, fmt.Errorf("%w: mp3: %v", ErrCorrupt, rerr)
			}
			break // keep what decoded before the damage
		}
	}
	out := rs.finish()
	if rs.over {
		return nil, fmt.Errorf("%w: mp3: exceeds the limit of %v", ErrTooLong, samplesDuration(maxSamples))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: mp3", ErrEmpty)
	}
	return &Prompt{Samples: out}, nil
}
