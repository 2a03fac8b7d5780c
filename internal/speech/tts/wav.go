package tts

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// wavHeaderSize is the size of the canonical header normalizeWAV writes.
const wavHeaderSize = 44

// errBadWAV is audio from an engine that is not a usable WAV file.
var errBadWAV = errors.New("tts: engine output is not a 16-bit PCM WAV file")

// wavPCM is the audio of a parsed WAV file.
type wavPCM struct {
	rate     int
	channels int
	data     []byte // little-endian 16-bit samples, whole frames
}

// parseWAV reads a RIFF/WAVE file of 16-bit PCM. It tolerates the sizes
// that writers streaming to a pipe put in the headers (0, 0x7fffffff,
// 0xffffffff, garbage): the RIFF size is ignored and a data size of 0 or
// beyond the end of b means "to the end of b".
func parseWAV(b []byte) (wavPCM, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return wavPCM{}, fmt.Errorf("%w: no RIFF/WAVE header", errBadWAV)
	}
	var (
		w       wavPCM
		format  int
		bits    int
		haveFmt bool
	)
	off := int64(12)
	n := int64(len(b))
	for {
		if off+8 > n {
			return wavPCM{}, fmt.Errorf("%w: no data chunk", errBadWAV)
		}
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4:]))
		body := off + 8
		switch id {
		case "fmt ":
			if size < 16 || body+size > n {
				return wavPCM{}, fmt.Errorf("%w: bad fmt chunk", errBadWAV)
			}
			f := b[body : body+size]
			format = int(binary.LittleEndian.Uint16(f[0:]))
			w.channels = int(binary.LittleEndian.Uint16(f[2:]))
			w.rate = int(binary.LittleEndian.Uint32(f[4:]))
			bits = int(binary.LittleEndian.Uint16(f[14:]))
			if format == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: subformat GUID
				format = int(binary.LittleEndian.Uint16(f[24:]))
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return wavPCM{}, fmt.Errorf("%w: data before fmt", errBadWAV)
			}
			if format != 1 || bits != 16 {
				return wavPCM{}, fmt.Errorf("%w: format %d, %d bits", errBadWAV, format, bits)
			}
			if w.channels < 1 || w.channels > 8 || w.rate < 1000 || w.rate > 384000 {
				return wavPCM{}, fmt.Errorf("%w: %d channels at %d Hz", errBadWAV, w.channels, w.rate)
			}
			if rest := n - body; size == 0 || size > rest {
				size = rest
			}
			frame := int64(2 * w.channels)
			size -= size % frame
			w.data = b[body : body+size]
			return w, nil
		}
		off = body + size + size&1
	}
}

// normalizeWAV rewrites a 16-bit PCM WAV file (any header layout, bogus
// streaming sizes, up to 8 channels) as a canonical 44-byte-header mono
// file whose sizes match its data. Multichannel audio is averaged to mono.
func normalizeWAV(b []byte) ([]byte, error) {
	w, err := parseWAV(b)
	if err != nil {
		return nil, err
	}
	if w.channels == 1 {
		return buildWAV(w.rate, w.data), nil
	}
	frames := len(w.data) / (2 * w.channels)
	mono := make([]byte, 2*frames)
	for i := range frames {
		sum := 0
		for c := range w.channels {
			sum += int(int16(binary.LittleEndian.Uint16(w.data[2*(i*w.channels+c):])))
		}
		binary.LittleEndian.PutUint16(mono[2*i:], uint16(int16(sum/w.channels)))
	}
	return buildWAV(w.rate, mono), nil
}

// buildWAV returns a canonical mono 16-bit PCM WAV file of pcm at rate.
func buildWAV(rate int, pcm []byte) []byte {
	out := make([]byte, wavHeaderSize+len(pcm))
	copy(out[0:], "RIFF")
	binary.LittleEndian.PutUint32(out[4:], uint32(36+len(pcm)))
	copy(out[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(out[16:], 16)
	binary.LittleEndian.PutUint16(out[20:], 1) // PCM
	binary.LittleEndian.PutUint16(out[22:], 1) // mono
	binary.LittleEndian.PutUint32(out[24:], uint32(rate))
	binary.LittleEndian.PutUint32(out[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(out[32:], 2)
	binary.LittleEndian.PutUint16(out[34:], 16)
	copy(out[36:], "data")
	binary.LittleEndian.PutUint32(out[40:], uint32(len(pcm)))
	copy(out[44:], pcm)
	return out
}
