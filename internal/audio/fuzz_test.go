package audio

import (
	"errors"
	"testing"
	"time"
)

func FuzzDecode(f *testing.F) {
	gen := toneGen(1000, 8000, 0.5, 0.5)
	for _, fm := range wavFormats {
		s := fm.spec
		s.rate, s.channels = 16000, 2
		f.Add(s.makeWAV(40, gen))
	}
	s := wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: 8000}
	f.Add(riff(chunk{"LIST", []byte("INFOx")}, s.fmtChunk(), s.dataChunk(9, gen), chunk{"junk", []byte{1}}))
	f.Add(riff(s.fmtChunk(), chunk{"data", nil}))
	f.Add(s.makeWAV(20, gen)[:50])
	mp := mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 3}
	f.Add(mp.encode())
	f.Add(append(id3v2("t"), mp.encode()...))
	f.Add(mp3Spec{rate: 22050, kbps: 32, line: 62, gain: 198, frames: 3, stereo: true}.encode())
	f.Add([]byte("ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x50\xc0"))
	f.Add([]byte{0xFF, 0xFB, 0x50, 0xC0, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00"))
	f.Add([]byte("just some text"))
	f.Add([]byte{})

	const limit = 30 * time.Second
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeWith(b, DecodeOptions{MaxDuration: limit})
		if err != nil {
			if p != nil {
				t.Fatal("prompt returned with an error")
			}
			for _, s := range []error{ErrUnsupportedFormat, ErrCorrupt, ErrEmpty, ErrTooLong} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if len(p.Samples) == 0 || p.Duration() > limit {
			t.Fatalf("%d samples", len(p.Samples))
		}
	})
}

// FuzzResample checks lengths and bounds for arbitrary rate pairs.
func FuzzResample(f *testing.F) {
	f.Add(uint32(48000), uint32(8000), []byte{1, 2, 3, 4, 5, 6})
	f.Add(uint32(8000), uint32(44100), []byte{0xff, 0x7f, 0x00, 0x80})
	f.Add(uint32(11025), uint32(8000), []byte{})
	f.Fuzz(func(t *testing.T, from, to uint32, raw []byte) {
		from = MinResampleRate + from%(MaxResampleRate-MinResampleRate+1)
		to = MinResampleRate + to%(48000-MinResampleRate+1)
		src := make([]int16, len(raw)/2)
		for i := range src {
			src[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		out := Resample(nil, src, int(from), int(to))
		if want := (len(src)*int(to) + int(from) - 1) / int(from); len(out) != want {
			t.Fatalf("%d -> %d: %d samples, want %d", from, to, len(out), want)
		}
	})
}
