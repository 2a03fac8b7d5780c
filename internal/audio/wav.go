package audio

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

// WAVE format tags.
const (
	wavePCM        = 0x0001
	waveFloat      = 0x0003
	waveALaw       = 0x0006
	waveMuLaw      = 0x0007
	waveExtensible = 0xFFFE
)

// Accepted WAV parameters.
const (
	minWAVRate     = 4000
	maxWAVRate     = 96000
	maxWAVChannels = 8
)

// ksDataFormatTail is bytes 2..15 of the KSDATAFORMAT_SUBTYPE_* GUIDs
// ({0000xxxx-0000-0010-8000-00AA00389B71}) that carry a plain format tag in
// their first two bytes.
var ksDataFormatTail = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// sampleKind is how one sample of one channel is stored.
type sampleKind uint8

const (
	kindU8 sampleKind = iota + 1
	kindS16
	kindS24
	kindS32
	kindF32
	kindF64
	kindALaw
	kindMuLaw
)

type wavFormat struct {
	kind     sampleKind
	channels int
	rate     int
	width    int // bytes per sample of one channel
}

func isWAV(b []byte) bool {
	return len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WAVE"
}

// decodeWAV decodes a RIFF/WAVE file. Chunks other than "fmt " and "data"
// are skipped; odd-sized chunks are followed by a pad byte; a data chunk
// that claims more bytes than the file holds is truncated to the file.
func decodeWAV(b []byte, maxSamples int) (*Prompt, error) {
	var (
		fmtBody          []byte
		data             []byte
		haveFmt, haveDat bool
	)
	off := 12
	for off+8 <= len(b) {
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4:]))
		body := int64(off + 8)
		end := body + size
		truncated := end > int64(len(b))
		switch id {
		case "fmt ":
			if truncated {
				return nil, fmt.Errorf("%w: wav: fmt chunk truncated", ErrCorrupt)
			}
			if !haveFmt {
				fmtBody, haveFmt = b[body:end], true
			}
		case "data":
			if !haveDat {
				data, haveDat = b[body:min(end, int64(len(b)))], true
			}
		}
		if truncated {
			break
		}
		off = int(end + size&1)
	}
	if !haveFmt {
		return nil, fmt.Errorf("%w: wav: no fmt chunk", ErrCorrupt)
	}
	f, err := parseWAVFormat(fmtBody)
	if err != nil {
		return nil, err
	}
	if !haveDat {
		return nil, fmt.Errorf("%w: wav: no data chunk", ErrCorrupt)
	}
	frameBytes := f.width * f.channels
	frames := len(data) / frameBytes
	if frames == 0 {
		return nil, fmt.Errorf("%w: wav: empty data chunk", ErrEmpty)
	}
	expect := int64(frames)
	if f.rate != SampleRate {
		expect = getKernel(f.rate, SampleRate).outputs(int64(frames))
	}
	if expect > int64(maxSamples) {
		return nil, fmt.Errorf("%w: wav: %v exceeds the limit of %v", ErrTooLong,
			samplesDuration(int(min(expect, math.MaxInt32))), samplesDuration(maxSamples))
	}
	rs := newStreamResampler(f.rate, int(expect), maxSamples)
	var buf [2048]float32
	data = data[:frames*frameBytes]
	for len(data) > 0 {
		n := min(len(buf), len(data)/frameBytes)
		f.toMono(buf[:n], data[:n*frameBytes])
		data = data[n*frameBytes:]
		rs.write(buf[:n])
	}
	out := rs.finish()
	if rs.over {
		return nil, fmt.Errorf("%w: wav: exceeds the limit of %v", ErrTooLong, samplesDuration(maxSamples))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: wav", ErrEmpty)
	}
	return &Prompt{Samples: out}, nil
}

// parseWAVFormat validates a "fmt " chunk body (WAVEFORMAT, WAVEFORMATEX
// or WAVEFORMATEXTENSIBLE).
func parseWAVFormat(c []byte) (wavFormat, error) {
	var f wavFormat
	if len(c) < 16 {
		return f, fmt.Errorf("%w: wav: fmt chunk of %d bytes", ErrCorrupt, len(c))
	}
	tag := binary.LittleEndian.Uint16(c[0:])
	f.channels = int(binary.LittleEndian.Uint16(c[2:]))
	rate := binary.LittleEndian.Uint32(c[4:])
	bits := int(binary.LittleEndian.Uint16(c[14:]))
	if tag == waveExtensible {
		if len(c) < 40 || binary.LittleEndian.Uint16(c[16:]) < 22 {
			return f, fmt.Errorf("%w: wav: short WAVE_FORMAT_EXTENSIBLE", ErrCorrupt)
		}
		if [14]byte(c[26:40]) != ksDataFormatTail {
			return f, fmt.Errorf("%w: wav: unknown extensible subformat", ErrUnsupportedFormat)
		}
		tag = binary.LittleEndian.Uint16(c[24:])
	}
	if f.channels == 0 || rate == 0 || bits == 0 {
		return f, fmt.Errorf("%w: wav: %d channels, %d Hz, %d bits", ErrCorrupt, f.channels, rate, bits)
	}
	if f.channels > maxWAVChannels {
		return f, fmt.Errorf("%w: wav: %d channels", ErrUnsupportedFormat, f.channels)
	}
	if rate < minWAVRate || rate > maxWAVRate {
		return f, fmt.Errorf("%w: wav: sample rate %d Hz", ErrUnsupportedFormat, rate)
	}
	f.rate = int(rate)
	// bits is the container size; narrower valid bits are left-justified
	// in it, so reading the whole container is right.
	f.width = (bits + 7) / 8
	switch {
	case tag == wavePCM && f.width == 1:
		f.kind = kindU8
	case tag == wavePCM && f.width == 2:
		f.kind = kindS16
	case tag == wavePCM && f.width == 3:
		f.kind = kindS24
	case tag == wavePCM && f.width == 4:
		f.kind = kindS32
	case tag == waveFloat && bits == 32:
		f.kind = kindF32
	case tag == waveFloat && bits == 64:
		f.kind = kindF64
	case tag == waveALaw && bits == 8:
		f.kind = kindALaw
	case tag == waveMuLaw && bits == 8:
		f.kind = kindMuLaw
	default:
		return f, fmt.Errorf("%w: wav: format tag %#04x with %d bits", ErrUnsupportedFormat, tag, bits)
	}
	return f, nil
}

// toMono converts len(dst) frames from src to mono samples on the int16
// scale, averaging the channels.
func (f *wavFormat) toMono(dst []float32, src []byte) {
	scale := 1 / float32(f.channels)
	w := f.width
	for i := range dst {
		var sum float32
		for c := 0; c < f.channels; c++ {
			sum += f.sample(src[:w:w])
			src = src[w:]
		}
		dst[i] = sum * scale
	}
}

// sample decodes one stored sample to the int16 scale.
func (f *wavFormat) sample(b []byte) float32 {
	switch f.kind {
	case kindU8:
		return (float32(b[0]) - 128) * 256
	case kindS16:
		return float32(int16(binary.LittleEndian.Uint16(b)))
	case kindS24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float32(v) / 256
	case kindS32:
		return float32(int32(binary.LittleEndian.Uint32(b))) / 65536
	case kindF32:
		return floatSample(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
	case kindF64:
		return floatSample(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case kindALaw:
		return float32(g711.DecodeAlaw(b[0]))
	case kindMuLaw:
		return float32(g711.DecodeUlaw(b[0]))
	}
	return 0
}

// floatSample maps a float sample (nominally -1..1) to the int16 scale,
// clipping out-of-range values and silencing NaN.
func floatSample(v float64) float32 {
	switch {
	case v != v:
		return 0
	case v > 1:
		v = 1
	case v < -1:
		v = -1
	}
	return float32(v * 32768)
}
