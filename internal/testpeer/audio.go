package testpeer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// Tone returns n 16-bit linear PCM samples of a sine wave.
func Tone(freqHz float64, sampleRate, n int, amplitude int16) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(float64(amplitude) * math.Sin(2*math.Pi*freqHz*float64(i)/float64(sampleRate)))
	}
	return out
}

// ULawEncode converts 16-bit linear PCM to G.711 µ-law (PCMU).
func ULawEncode(pcm []int16) []byte {
	const bias, clip = 0x84, 32635
	out := make([]byte, len(pcm))
	for i, s16 := range pcm {
		s := int(s16)
		sign := 0
		if s < 0 {
			sign = 0x80
			s = -s
		}
		if s > clip {
			s = clip
		}
		s += bias
		exp := 7
		for mask := 0x4000; exp > 0 && s&mask == 0; mask >>= 1 {
			exp--
		}
		mant := (s >> (exp + 3)) & 0x0F
		out[i] = ^byte(sign | exp<<4 | mant)
	}
	return out
}

// ULawDecode converts G.711 µ-law to 16-bit linear PCM.
func ULawDecode(b []byte) []int16 {
	out := make([]int16, len(b))
	for i, c := range b {
		u := ^c
		t := (int(u&0x0F) << 3) + 0x84
		t <<= (u & 0x70) >> 4
		if u&0x80 != 0 {
			out[i] = int16(0x84 - t)
		} else {
			out[i] = int16(t - 0x84)
		}
	}
	return out
}

// ALawEncode converts 16-bit linear PCM to G.711 A-law (PCMA).
func ALawEncode(pcm []int16) []byte {
	out := make([]byte, len(pcm))
	for i, s16 := range pcm {
		s := int(s16)
		sign := 0x80
		if s < 0 {
			sign = 0
			s = -s - 1
		}
		if s > 32767 {
			s = 32767
		}
		var v int
		if s < 256 {
			v = s >> 4
		} else {
			exp := 7
			for ; exp > 1 && s&(0x4000>>(7-exp)) == 0; exp-- {
			}
			v = exp<<4 | (s>>(exp+3))&0x0F
		}
		out[i] = byte((v | sign) ^ 0x55)
	}
	return out
}

// ALawDecode converts G.711 A-law to 16-bit linear PCM.
func ALawDecode(b []byte) []int16 {
	out := make([]int16, len(b))
	for i, c := range b {
		a := int(c ^ 0x55)
		t := (a & 0x0F) << 4
		seg := (a & 0x70) >> 4
		switch seg {
		case 0:
			t += 8
		case 1:
			t += 0x108
		default:
			t += 0x108
			t <<= seg - 1
		}
		if a&0x80 != 0 {
			out[i] = int16(t)
		} else {
			out[i] = int16(-t)
		}
	}
	return out
}

// WAV is 16-bit little-endian PCM audio.
type WAV struct {
	SampleRate int
	Channels   int
	Samples    []int16 // interleaved when Channels > 1
}

// Duration in seconds.
func (w WAV) Duration() float64 {
	if w.SampleRate == 0 || w.Channels == 0 {
		return 0
	}
	return float64(len(w.Samples)) / float64(w.SampleRate*w.Channels)
}

// RMS of all samples (0..32767): near 0 for silence.
func (w WAV) RMS() float64 {
	if len(w.Samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range w.Samples {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(w.Samples)))
}

// Encode returns the RIFF/WAVE bytes.
func (w WAV) Encode() []byte {
	var b bytes.Buffer
	dataLen := len(w.Samples) * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+dataLen))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1)) // PCM
	binary.Write(&b, binary.LittleEndian, uint16(w.Channels))
	binary.Write(&b, binary.LittleEndian, uint32(w.SampleRate))
	binary.Write(&b, binary.LittleEndian, uint32(w.SampleRate*w.Channels*2))
	binary.Write(&b, binary.LittleEndian, uint16(w.Channels*2))
	binary.Write(&b, binary.LittleEndian, uint16(16))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(dataLen))
	binary.Write(&b, binary.LittleEndian, w.Samples)
	return b.Bytes()
}

// WriteFile writes the WAV file.
func (w WAV) WriteFile(path string) error {
	return os.WriteFile(path, w.Encode(), 0o644)
}

// DecodeWAV parses a 16-bit PCM RIFF/WAVE file. A data chunk whose size field
// is 0 or too large (a file still being written) is read to the end.
func DecodeWAV(data []byte) (WAV, error) {
	var w WAV
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return w, errors.New("wav: not a RIFF/WAVE file")
	}
	p := 12
	gotFmt := false
	for p+8 <= len(data) {
		id := string(data[p : p+4])
		size := int(binary.LittleEndian.Uint32(data[p+4 : p+8]))
		body := data[p+8:]
		switch id {
		case "fmt ":
			if size < 16 || len(body) < 16 {
				return w, errors.New("wav: short fmt chunk")
			}
			format := binary.LittleEndian.Uint16(body[0:2])
			w.Channels = int(binary.LittleEndian.Uint16(body[2:4]))
			w.SampleRate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits := binary.LittleEndian.Uint16(body[14:16])
			if format != 1 && format != 0xFFFE || bits != 16 {
				return w, fmt.Errorf("wav: format %d with %d bits, want 16-bit PCM", format, bits)
			}
			gotFmt = true
		case "data":
			if !gotFmt {
				return w, errors.New("wav: data before fmt")
			}
			if size == 0 || size > len(body) {
				size = len(body)
			}
			n := size / 2
			w.Samples = make([]int16, n)
			for i := range n {
				w.Samples[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return w, nil
		}
		p += 8 + size + size%2
	}
	return w, errors.New("wav: no data chunk")
}

// ReadWAV reads and parses a WAV file.
func ReadWAV(path string) (WAV, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return WAV{}, err
	}
	return DecodeWAV(data)
}

// ToneWAV returns a mono 8 kHz WAV of a sine tone.
func ToneWAV(freqHz float64, seconds float64) WAV {
	n := int(seconds * 8000)
	return WAV{SampleRate: 8000, Channels: 1, Samples: Tone(freqHz, 8000, n, 8000)}
}
