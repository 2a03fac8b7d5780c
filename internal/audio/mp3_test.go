package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hajimehoshi/go-mp3"
)

// mp3RefLevel is the peak amplitude go-mp3 produces for one line of
// magnitude 1 at global_gain 190 (measured; the tests check ratios to it).
const mp3RefLevel = 1023.0

func TestDecodeMP3Generated(t *testing.T) {
	cases := []struct {
		name   string
		spec   mp3Spec
		prefix []byte
		suffix []byte
	}{
		{"mpeg1-44100-mono", mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 40}, nil, nil},
		{"mpeg1-48000-mono", mp3Spec{mpeg1: true, rate: 48000, kbps: 64, line: 44, gain: 198, frames: 40}, nil, nil},
		{"mpeg1-32000-stereo", mp3Spec{mpeg1: true, rate: 32000, kbps: 96, line: 80, gain: 198, frames: 40, stereo: true}, nil, nil},
		{"mpeg2-22050-mono", mp3Spec{rate: 22050, kbps: 32, line: 62, gain: 198, frames: 80}, nil, nil},
		{"mpeg2-24000-stereo", mp3Spec{rate: 24000, kbps: 64, line: 44, gain: 198, frames: 80, stereo: true}, nil, nil},
		{"mpeg2-16000-mono", mp3Spec{rate: 16000, kbps: 32, line: 98, gain: 198, frames: 80}, nil, nil},
		{"id3v2 tag", mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 40}, id3v2("Welcome"), nil},
		{"two id3v2 tags", mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 40},
			append(id3v2("a"), id3v2("b")...), nil},
		{"zeros after the id3v2 tag", mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 40},
			append(id3v2("a"), make([]byte, 100)...), nil},
		{"id3v1 trailer", mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 40},
			nil, append([]byte("TAG"), make([]byte, 125)...)},
		{"trailing junk", mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 40},
			nil, []byte("<html>oops</html>")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := append(append(append([]byte{}, tc.prefix...), tc.spec.encode()...), tc.suffix...)
			p, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			n := tc.spec.samples()
			if want := (n*SampleRate + tc.spec.rate - 1) / tc.spec.rate; len(p.Samples) != want {
				t.Errorf("%d samples, want %d", len(p.Samples), want)
			}
			level := mp3RefLevel * math.Pow(2, float64(tc.spec.gain-190)/4)
			if tc.spec.stereo {
				level /= 2 // the right channel is silent
			}
			checkTone(t, p.Samples, tc.spec.toneFreq(), level, 0.5)
		})
	}
}

func TestDecodeMP3Truncated(t *testing.T) {
	spec := mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 40}
	b := spec.encode()
	p, err := Decode(b[:len(b)-100]) // last frame cut in half
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Duration(); d < 1000*time.Millisecond || d > 1045*time.Millisecond {
		t.Errorf("duration %v, want about 39-40 frames of 26 ms", d)
	}
	checkTone(t, p.Samples, spec.toneFreq(), mp3RefLevel*4, 0.5)
}

func TestDecodeMP3TooLong(t *testing.T) {
	spec := mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 100} // 2.6 s
	if _, err := DecodeWith(spec.encode(), DecodeOptions{MaxDuration: 2 * time.Second}); !errors.Is(err, ErrTooLong) {
		t.Errorf("err = %v, want ErrTooLong", err)
	}
}

func TestDecodeMP3Corrupt(t *testing.T) {
	spec := mp3Spec{mpeg1: true, rate: 44100, kbps: 64, line: 26, gain: 198, frames: 10}
	good := spec.encode()
	// Garbage after a valid first header: go-mp3 must fail cleanly.
	for i, mod := range []func(b []byte){
		func(b []byte) { // part2_3_length beyond the frame
			for j := 4; j < 21; j++ {
				b[j] = 0xFF
			}
		},
		func(b []byte) {
			for j := 4; j < len(b); j++ {
				b[j] = byte(j * 7)
			}
		},
	} {
		b := append([]byte{}, good...)
		mod(b)
		p, err := Decode(b)
		if err == nil {
			// go-mp3 may resynchronise and decode something; that is
			// fine as long as it is audio of a sane length.
			if len(p.Samples) == 0 || len(p.Samples) > 10*1152 {
				t.Errorf("case %d: %d samples", i, len(p.Samples))
			}
			continue
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrEmpty) {
			t.Errorf("case %d: %v, want ErrCorrupt", i, err)
		}
	}
}

// TestDecodeMP3Lame encodes a 1 kHz tone with LAME when it is installed.
func TestDecodeMP3Lame(t *testing.T) {
	lame, err := exec.LookPath("lame")
	if err != nil {
		t.Skip("lame not installed")
	}
	dir := t.TempDir()
	for _, rate := range []int{44100, 22050} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			spec := wavSpec{tag: wavePCM, bits: 16, channels: 1, rate: rate}
			in := filepath.Join(dir, fmt.Sprintf("tone%d.wav", rate))
			out := filepath.Join(dir, fmt.Sprintf("tone%d.mp3", rate))
			if err := os.WriteFile(in, spec.makeWAV(rate, toneGen(1000, rate, 0.5, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command(lame, "--quiet", "-b", "64", in, out).CombinedOutput(); err != nil {
				t.Fatalf("lame: %v: %s", err, b)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			// LAME adds its encoder delay, padding to a whole frame and an
			// info frame.
			if d := p.Duration(); d < time.Second || d > 1200*time.Millisecond {
				t.Errorf("duration %v, want 1 s plus encoder padding", d)
			}
			checkTone(t, p.Samples, 1000, 0.5*32768, 1)
		})
	}
}

// TestDecodeMP3Real decodes the real-world MP3s that ship with go-mp3's
// module (if the module cache holds them) and compares with a reference:
// go-mp3's own output mixed down and passed through Resample.
func TestDecodeMP3Real(t *testing.T) {
	dir := goMP3Dir(t)
	for _, tc := range []struct {
		file  string
		limit int // bytes used from the file
	}{
		{"mpeg2.mp3", 96 << 10},    // MPEG-2, 22.05 kHz mono, ID3v2.4: first 96 KiB
		{"classic.mp3", 192 << 10}, // MPEG-1, 44.1 kHz joint stereo: first 192 KiB
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "example", tc.file))
			if err != nil {
				t.Skip(err)
			}
			if tc.limit > 0 {
				b = b[:tc.limit]
			}
			p, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			d, err := mp3.NewDecoder(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(d)
			if err != nil {
				t.Fatal(err)
			}
			mono := make([]int16, len(raw)/4)
			for i := range mono {
				l := int(int16(binary.LittleEndian.Uint16(raw[4*i:])))
				r := int(int16(binary.LittleEndian.Uint16(raw[4*i+2:])))
				mono[i] = int16((l + r) / 2)
			}
			want := Resample(nil, mono, d.SampleRate(), SampleRate)
			if len(p.Samples) != len(want) {
				t.Fatalf("%d samples, reference has %d", len(p.Samples), len(want))
			}
			worst := 0
			for i := range want {
				worst = max(worst, abs(int(p.Samples[i])-int(want[i])))
			}
			if worst > 2 {
				t.Errorf("differs from the reference by up to %d", worst)
			}
			if rms(p.Samples) < 100 {
				t.Errorf("rms %.0f: no audio", rms(p.Samples))
			}
			t.Logf("%s: %v at %d Hz, rms %.0f", tc.file, p.Duration(), d.SampleRate(), rms(p.Samples))
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// goMP3Dir finds go-mp3's module directory, or skips.
func goMP3Dir(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skip("go env GOMODCACHE:", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "hajimehoshi", "go-mp3@v0.3.4")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("go-mp3 module not in the module cache")
	}
	return dir
}
