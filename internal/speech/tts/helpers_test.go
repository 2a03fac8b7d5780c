package tts

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// testWAV is a decoded canonical WAV.
type testWAV struct {
	rate    int
	samples []int16
}

func (w testWAV) seconds() float64 { return float64(len(w.samples)) / float64(w.rate) }

func (w testWAV) rms() float64 {
	if len(w.samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range w.samples {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(w.samples)))
}

// decodeCanonical checks that b is a canonical 44-byte-header mono 16-bit
// PCM WAV whose sizes match its length, and decodes it.
func decodeCanonical(t testing.TB, b []byte) testWAV {
	t.Helper()
	if len(b) < wavHeaderSize {
		t.Fatalf("WAV of %d bytes", len(b))
	}
	le := binary.LittleEndian
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Fatalf("WAV %s = %v, want %v", what, got, want)
		}
	}
	check("RIFF", string(b[0:4]), "RIFF")
	check("RIFF size", le.Uint32(b[4:]), uint32(len(b)-8))
	check("WAVE", string(b[8:16]), "WAVEfmt ")
	check("fmt size", le.Uint32(b[16:]), uint32(16))
	check("format", le.Uint16(b[20:]), uint16(1))
	check("channels", le.Uint16(b[22:]), uint16(1))
	rate := int(le.Uint32(b[24:]))
	check("byte rate", le.Uint32(b[28:]), uint32(2*rate))
	check("block align", le.Uint16(b[32:]), uint16(2))
	check("bits", le.Uint16(b[34:]), uint16(16))
	check("data", string(b[36:40]), "data")
	check("data size", le.Uint32(b[40:]), uint32(len(b)-wavHeaderSize))
	if (len(b)-wavHeaderSize)%2 != 0 {
		t.Fatalf("odd data size %d", len(b)-wavHeaderSize)
	}
	w := testWAV{rate: rate, samples: make([]int16, (len(b)-wavHeaderSize)/2)}
	for i := range w.samples {
		w.samples[i] = int16(le.Uint16(b[wavHeaderSize+2*i:]))
	}
	return w
}

// streamingWAV is what espeak-ng writes to a pipe: a 44-byte header with
// placeholder sizes, then the samples.
func streamingWAV(rate int, samples []int16) []byte {
	pcm := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(s))
	}
	b := buildWAV(rate, pcm)
	binary.LittleEndian.PutUint32(b[4:], 0x7ffff024)
	binary.LittleEndian.PutUint32(b[40:], 0x7ffff000)
	return b
}

func tone(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(float64(i)/5))
	}
	return s
}

// espeakBinary returns espeak-ng's path, skipping the test when it is not
// installed (or in -short mode) unless REQUIRE_TEST_PEERS=1.
func espeakBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() && os.Getenv(testpeer.RequirePeersEnv) != "1" {
		t.Skip("-short: not running espeak-ng")
	}
	return testpeer.Binary(t, "TEST_ESPEAK", "espeak-ng", "apt-get install espeak-ng")
}

// fakeEspeak writes a /bin/sh stand-in for espeak-ng into a temporary
// directory D: it answers --voices with nothing and otherwise runs body,
// in which $D is that directory. D/canned.wav holds a short streaming WAV.
func fakeEspeak(t testing.TB, body string) (bin, dir string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("fake espeak-ng needs /bin/sh")
	}
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "canned.wav"), streamingWAV(22050, tone(2205)), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nD='" + dir + "'\ncase \"$*\" in *--voices*) exit 0;; esac\n" + body + "\n"
	bin = filepath.Join(dir, "espeak-ng")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, dir
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}
