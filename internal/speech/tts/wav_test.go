package tts

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// wavFile builds a WAV with the given fmt fields, extra chunks before the
// data, and declared RIFF/data sizes.
func wavFile(format, channels, rate, bits int, extra []byte, riffSize, dataSize uint32, data []byte) []byte {
	le := binary.LittleEndian
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00")
	b = le.AppendUint16(b, uint16(format))
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	b = le.AppendUint16(b, uint16(bits))
	b = append(b, extra...)
	b = append(b, "data"...)
	b = le.AppendUint32(b, dataSize)
	b = append(b, data...)
	le.PutUint32(b[4:], riffSize)
	return b
}

func pcm(s ...int16) []byte {
	b := make([]byte, 0, 2*len(s))
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

func TestNormalizeWAV(t *testing.T) {
	four := pcm(1, -2, 3, -4)
	list := append([]byte("LIST\x05\x00\x00\x00abcde"), 0) // odd size, padded
	tests := []struct {
		name    string
		in      []byte
		rate    int
		samples []int16
		err     bool
	}{
		{"espeak streaming sizes", wavFile(1, 1, 22050, 16, nil, 0x7ffff024, 0x7ffff000, four), 22050, []int16{1, -2, 3, -4}, false},
		{"0xffffffff sizes", wavFile(1, 1, 24000, 16, nil, 0xffffffff, 0xffffffff, four), 24000, []int16{1, -2, 3, -4}, false},
		{"zero data size means to the end", wavFile(1, 1, 16000, 16, nil, 0, 0, four), 16000, []int16{1, -2, 3, -4}, false},
		{"correct sizes, trailing chunk ignored", append(wavFile(1, 1, 8000, 16, nil, 0, 4, four), "JUNKxxxx"...), 8000, []int16{1, -2}, false},
		{"odd trailing byte dropped", wavFile(1, 1, 22050, 16, nil, 0, 0x7ffff000, append(four, 9)), 22050, []int16{1, -2, 3, -4}, false},
		{"chunk before data", wavFile(1, 1, 22050, 16, list, 0, 0x7ffff000, four), 22050, []int16{1, -2, 3, -4}, false},
		{"stereo averaged", wavFile(1, 2, 24000, 16, nil, 0, 0, pcm(100, 300, -100, -301, 7)), 24000, []int16{200, -200}, false},
		{"extensible PCM", extensible(), 48000, []int16{5}, false},
		{"empty data", wavFile(1, 1, 22050, 16, nil, 0, 0, nil), 22050, []int16{}, false},
		{"8-bit", wavFile(1, 1, 8000, 8, nil, 0, 0, []byte{1, 2}), 0, nil, true},
		{"float", wavFile(3, 1, 8000, 32, nil, 0, 0, make([]byte, 8)), 0, nil, true},
		{"no channels", wavFile(1, 0, 8000, 16, nil, 0, 0, four), 0, nil, true},
		{"silly rate", wavFile(1, 1, 7, 16, nil, 0, 0, four), 0, nil, true},
		{"not RIFF", []byte("ID3\x03 not a wav file at all"), 0, nil, true},
		{"truncated header", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), 0, nil, true},
		{"no data chunk", wavFile(1, 1, 8000, 16, nil, 0, 0, nil)[:36], 0, nil, true},
		{"huge chunk before data", wavFile(1, 1, 8000, 16, []byte("LIST\xff\xff\xff\xff"), 0, 0, four), 0, nil, true},
		{"data before fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00\x01\x00\x02\x00"), 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := normalizeWAV(tt.in)
			if tt.err {
				if !errors.Is(err, errBadWAV) {
					t.Fatalf("normalizeWAV = %v, want errBadWAV", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := decodeCanonical(t, out)
			if w.rate != tt.rate || !slices.Equal(w.samples, tt.samples) {
				t.Errorf("got %d Hz %v, want %d Hz %v", w.rate, w.samples, tt.rate, tt.samples)
			}
		})
	}
}

func extensible() []byte {
	le := binary.LittleEndian
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x28\x00\x00\x00")
	b = le.AppendUint16(b, 0xFFFE)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint32(b, 48000)
	b = le.AppendUint32(b, 96000)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 16)
	b = le.AppendUint16(b, 22) // cbSize
	b = le.AppendUint16(b, 16) // valid bits
	b = le.AppendUint32(b, 4)  // channel mask
	b = append(b, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71)
	b = append(b, "data\x02\x00\x00\x00\x05\x00"...)
	return b
}

func FuzzNormalizeWAV(f *testing.F) {
	f.Add(wavFile(1, 1, 22050, 16, nil, 0x7ffff024, 0x7ffff000, pcm(1, 2, 3)))
	f.Add(wavFile(1, 2, 24000, 16, []byte("LIST\x02\x00\x00\x00ab"), 0, 0, pcm(1, 2, 3, 4)))
	f.Add(extensible())
	f.Add([]byte("RIFF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := normalizeWAV(b)
		if err != nil {
			return
		}
		w := decodeCanonical(t, out)
		if len(w.samples)*2 > len(b) {
			t.Fatalf("%d samples from %d bytes", len(w.samples), len(b))
		}
	})
}
