package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

var wavFormats = []struct {
	name  string
	spec  wavSpec
	tolDB float64 // level tolerance: quantisation of the narrow formats
}{
	{"pcm8", wavSpec{tag: wavePCM, bits: 8}, 0.3},
	{"pcm16", wavSpec{tag: wavePCM, bits: 16}, 0.1},
	{"pcm24", wavSpec{tag: wavePCM, bits: 24}, 0.1},
	{"pcm32", wavSpec{tag: wavePCM, bits: 32}, 0.1},
	{"float32", wavSpec{tag: waveFloat, bits: 32}, 0.1},
	{"float64", wavSpec{tag: waveFloat, bits: 64}, 0.1},
	{"alaw", wavSpec{tag: waveALaw, bits: 8}, 0.3},
	{"ulaw", wavSpec{tag: waveMuLaw, bits: 8}, 0.3},
	{"ext-pcm16", wavSpec{tag: wavePCM, bits: 16, extensible: true}, 0.1},
	{"ext-pcm24", wavSpec{tag: wavePCM, bits: 24, extensible: true}, 0.1},
	{"ext-pcm32", wavSpec{tag: wavePCM, bits: 32, extensible: true}, 0.1},
	{"ext-float32", wavSpec{tag: waveFloat, bits: 32, extensible: true}, 0.1},
	{"ext-ulaw", wavSpec{tag: waveMuLaw, bits: 8, extensible: true}, 0.3},
}

var wavRates = []int{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000}

func TestDecodeWAVFormats(t *testing.T) {
	// A 1 kHz tone at half scale, 0.4 s, in every format, rate and channel
	// count. In stereo the right channel is at 0.3 of the left, so the
	// mixdown must be 0.65 of the left's level.
	const freq, amp, dur = 1000.0, 0.5, 0.4
	for _, f := range wavFormats {
		for _, rate := range wavRates {
			for _, ch := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/%d/%dch", f.name, rate, ch), func(t *testing.T) {
					spec := f.spec
					spec.rate, spec.channels = rate, ch
					frames := int(dur * float64(rate))
					b := spec.makeWAV(frames, toneGen(freq, rate, amp, 0.3))
					p, err := Decode(b)
					if err != nil {
						t.Fatal(err)
					}
					want := (frames*SampleRate + rate - 1) / rate
					if len(p.Samples) != want {
						t.Errorf("%d samples, want %d", len(p.Samples), want)
					}
					if d := p.Duration(); d < 399*time.Millisecond || d > 401*time.Millisecond {
						t.Errorf("duration %v", d)
					}
					level := amp * 32768
					if ch == 2 {
						level *= 0.65
					}
					checkTone(t, p.Samples, freq, level, f.tolDB)
				})
			}
		}
	}
}

func TestDecodeWAVBitExact(t *testing.T) {
	// At 8 kHz mono there is no resampling: 16-bit PCM comes out unchanged
	// and G.711 decodes exactly as package g711 does.
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	for _, tc := range []struct {
		tag uint16
		dec func(byte) int16
	}{{waveMuLaw, g711.DecodeUlaw}, {waveALaw, g711.DecodeAlaw}} {
		spec := wavSpec{tag: tc.tag, bits: 8, channels: 1, rate: 8000}
		p, err := Decode(riff(spec.fmtChunk(), chunk{"data", codes}))
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range codes {
			if p.Samples[i] != tc.dec(c) {
				t.Fatalf("format %d code %#x: %d, want %d", tc.tag, c, p.Samples[i], tc.dec(c))
			}
		}
	}
	spec := wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: 8000}
	var data []byte
	var want []int16
	for i := -32768; i < 32768; i += 97 {
		data = binary.LittleEndian.AppendUint16(data, uint16(int16(i)))
		want = append(want, int16(i))
	}
	p, err := Decode(riff(spec.fmtChunk(), chunk{"data", data}))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if p.Samples[i] != want[i] {
			t.Fatalf("sample %d = %d, want %d", i, p.Samples[i], want[i])
		}
	}
	// Extremes of the wide formats map to the int16 extremes.
	for _, s := range []wavSpec{
		{tag: wavePCM, bits: 8}, {tag: wavePCM, bits: 24}, {tag: wavePCM, bits: 32},
		{tag: waveFloat, bits: 32}, {tag: waveFloat, bits: 64},
	} {
		s.channels, s.rate = 1, 8000
		vals := []float64{-1, 0, 1, 2, -2}
		p, err := Decode(s.makeWAV(len(vals), func(i, _ int) float64 { return vals[i] }))
		if err != nil {
			t.Fatal(err)
		}
		if p.Samples[0] != -32768 || p.Samples[1] != 0 || p.Samples[2] < 32512 || p.Samples[3] != p.Samples[2] || p.Samples[4] != -32768 {
			t.Errorf("%d-bit tag %d: extremes decode to %v", s.bits, s.tag, p.Samples)
		}
	}
}

func TestDecodeWAVStructure(t *testing.T) {
	spec := wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: 8000}
	gen := toneGen(1000, 8000, 0.5, 1)
	data := spec.dataChunk(800, gen)
	list := chunk{"LIST", []byte("INFOISFT\x05\x00\x00\x00test\x00")} // odd body: pad byte
	odd := chunk{"junk", []byte{1, 2, 3}}
	fact := chunk{"fact", []byte{0x20, 0x03, 0, 0}}

	cases := []struct {
		name    string
		file    []byte
		samples int
	}{
		{"plain", riff(spec.fmtChunk(), data), 800},
		{"LIST before data", riff(list, spec.fmtChunk(), odd, fact, data), 800},
		{"LIST after data", riff(spec.fmtChunk(), data, list, odd), 800},
		{"data before fmt", riff(data, spec.fmtChunk()), 800},
		{"odd data size with pad", riff(spec.fmtChunk(), chunk{"data", append(append([]byte{}, data.body...), 0x7F)}, list), 800},
		{"data size beyond file", func() []byte {
			b := riff(spec.fmtChunk(), data)
			binary.LittleEndian.PutUint32(b[len(b)-len(data.body)-4:], 0xFFFFFFF0)
			return b
		}(), 800},
		{"file truncated mid-data", riff(spec.fmtChunk(), data)[:44+800], 400},
		{"RIFF size wrong", func() []byte {
			b := riff(spec.fmtChunk(), data, list)
			binary.LittleEndian.PutUint32(b[4:], 12)
			return b
		}(), 800},
		{"second data chunk ignored", riff(spec.fmtChunk(), data, spec.dataChunk(10, gen)), 800},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Samples) != tc.samples {
				t.Fatalf("%d samples, want %d", len(p.Samples), tc.samples)
			}
			checkTone(t, p.Samples, 1000, 0.5*32768, 0.1)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	spec := wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: 8000}
	good := spec.makeWAV(800, toneGen(1000, 8000, 0.5, 1))
	with := func(mod func(b []byte)) []byte {
		b := append([]byte{}, good...)
		mod(b)
		return b
	}
	fmtWith := func(s wavSpec) []byte { return riff(s.fmtChunk(), chunk{"data", make([]byte, 64)}) }
	extBadGUID := func() []byte {
		s := spec
		s.extensible = true
		c := s.fmtChunk()
		c.body[39] ^= 0xFF
		return riff(c, chunk{"data", make([]byte, 64)})
	}()

	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty input", nil, ErrEmpty},
		{"text file", []byte("hello, this is not a wav file\n"), ErrUnsupportedFormat},
		{"html error page", []byte("<html><body>404 Not Found</body></html>"), ErrUnsupportedFormat},
		{"RIFF but AVI", append([]byte("RIFF\x04\x00\x00\x00AVI "), good[12:]...), ErrUnsupportedFormat},
		{"RIFX big-endian", with(func(b []byte) { copy(b, "RIFX") }), ErrUnsupportedFormat},
		{"ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), ErrUnsupportedFormat},
		{"only RIFF header", good[:12], ErrCorrupt},
		{"truncated in fmt", good[:30], ErrCorrupt},
		{"no data chunk", riff(spec.fmtChunk()), ErrCorrupt},
		{"no fmt chunk", riff(chunk{"data", make([]byte, 64)}), ErrCorrupt},
		{"short fmt", riff(chunk{"fmt ", make([]byte, 10)}, chunk{"data", make([]byte, 64)}), ErrCorrupt},
		{"zero channels", fmtWith(wavSpec{tag: wavePCM, bits: 16, channels: 0, rate: 8000}), ErrCorrupt},
		{"zero rate", fmtWith(wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: 0}), ErrCorrupt},
		{"zero bits", fmtWith(wavSpec{tag: wavePCM, bits: 0, channels: 1, rate: 8000}), ErrCorrupt},
		{"short extensible", with(func(b []byte) { binary.LittleEndian.PutUint16(b[20:], waveExtensible) }), ErrCorrupt},
		{"ADPCM", fmtWith(wavSpec{tag: 0x0002, bits: 4, channels: 1, rate: 8000}), ErrUnsupportedFormat},
		{"MP3 in WAV", fmtWith(wavSpec{tag: 0x0055, bits: 0 + 16, channels: 1, rate: 8000}), ErrUnsupportedFormat},
		{"float16", fmtWith(wavSpec{tag: waveFloat, bits: 16, channels: 1, rate: 8000}), ErrUnsupportedFormat},
		{"40-bit PCM", fmtWith(wavSpec{tag: wavePCM, bits: 40, channels: 1, rate: 8000}), ErrUnsupportedFormat},
		{"16 channels", fmtWith(wavSpec{tag: wavePCM, bits: 16, channels: 16, rate: 8000}), ErrUnsupportedFormat},
		{"2 kHz", fmtWith(wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: 2000}), ErrUnsupportedFormat},
		{"192 kHz", fmtWith(wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: 192000}), ErrUnsupportedFormat},
		{"extensible unknown GUID", extBadGUID, ErrUnsupportedFormat},
		{"empty data", riff(spec.fmtChunk(), chunk{"data", nil}), ErrEmpty},
		{"less than one frame", riff(wavSpec{tag: wavePCM, bits: 16, channels: 2, rate: 8000}.fmtChunk(), chunk{"data", []byte{1, 2, 3}}), ErrEmpty},
		{"ID3 then nothing", []byte("ID3\x03\x00\x00\x00\x00\x00\x00"), ErrCorrupt},
		{"ID3 then text", append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), "hello"...), ErrCorrupt},
		{"ID3 size past end", []byte("ID3\x03\x00\x00\x00\x00\x7f\x7f"), ErrCorrupt},
		{"ID3 bad syncsafe", []byte("ID3\x03\x00\x00\x80\x00\x00\x00xxxxxxxx"), ErrCorrupt},
		{"MPEG layer II", []byte{0xFF, 0xFD, 0x50, 0xC0, 0, 0, 0, 0}, ErrUnsupportedFormat},
		{"MPEG-2.5", []byte{0xFF, 0xE3, 0x50, 0xC0, 0, 0, 0, 0}, ErrUnsupportedFormat},
		{"free format MP3", []byte{0xFF, 0xFB, 0x00, 0xC0, 0, 0, 0, 0}, ErrUnsupportedFormat},
		{"ADTS AAC", []byte{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC}, ErrUnsupportedFormat},
		{"MP3 header, no body", []byte{0xFF, 0xFB, 0x50, 0xC0}, ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v (prompt %v), want %v", err, p != nil, tc.want)
			}
			if p != nil {
				t.Error("prompt returned with an error")
			}
		})
	}
}

func TestDecodeTooLong(t *testing.T) {
	spec := wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: 48000}
	b := spec.makeWAV(48000*3, toneGen(1000, 48000, 0.5, 1)) // 3 s
	if _, err := DecodeWith(b, DecodeOptions{MaxDuration: 2 * time.Second}); !errors.Is(err, ErrTooLong) {
		t.Errorf("3 s WAV with a 2 s limit: %v, want ErrTooLong", err)
	}
	if p, err := DecodeWith(b, DecodeOptions{MaxDuration: 3 * time.Second}); err != nil || p.Duration() != 3*time.Second {
		t.Errorf("3 s WAV with a 3 s limit: %v, %v", err, p.Duration())
	}
	// A µ-law WAV of 11 minutes (5 MB) is refused by default before
	// anything is decoded.
	u := wavSpec{tag: waveMuLaw, bits: 8, channels: 1, rate: 8000}
	big := riff(u.fmtChunk(), chunk{"data", make([]byte, 11*60*8000)})
	if _, err := Decode(big); !errors.Is(err, ErrTooLong) {
		t.Errorf("11 minutes: %v, want ErrTooLong", err)
	}
	// The header may lie: the limit is on what the file holds.
	lying := riff(u.fmtChunk(), chunk{"data", make([]byte, 8000)})
	binary.LittleEndian.PutUint32(lying[bytes.Index(lying, []byte("data"))+4:], math.MaxUint32)
	if p, err := Decode(lying); err != nil || len(p.Samples) != 8000 {
		t.Errorf("data size 4 GiB in a small file: %v", err)
	}
}
