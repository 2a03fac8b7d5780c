package audio

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodeSoxFixtures decodes WAVs written by SoX, an independent
// encoder (it picks WAVE_FORMAT_EXTENSIBLE itself for wide or multichannel
// files), when SoX is installed. The Go-generated fixtures cover the same
// formats everywhere else.
func TestDecodeSoxFixtures(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed")
	}
	dir := t.TempDir()
	cases := []string{
		"-r 8000 -c 1 -e unsigned-integer -b 8",
		"-r 8000 -c 1 -e u-law",
		"-r 8000 -c 2 -e a-law",
		"-r 11025 -c 1 -e signed-integer -b 16",
		"-r 16000 -c 2 -e signed-integer -b 16",
		"-r 22050 -c 1 -e signed-integer -b 24",
		"-r 44100 -c 2 -e signed-integer -b 24",
		"-r 48000 -c 2 -e signed-integer -b 32",
		"-r 32000 -c 1 -e floating-point -b 32",
		"-r 24000 -c 2 -e floating-point -b 64",
		"-r 44100 -c 4 -e signed-integer -b 16",
	}
	for i, args := range cases {
		t.Run(args, func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("f%d.wav", i))
			cmd := append([]string{"-D", "-n"}, strings.Fields(args)...)
			cmd = append(cmd, out, "synth", "0.5", "sine", "1000", "vol", "0.5")
			if b, err := exec.Command(sox, cmd...).CombinedOutput(); err != nil {
				t.Fatalf("sox %v: %v: %s", cmd, err, b)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := p.Duration().Seconds(); d < 0.499 || d > 0.501 {
				t.Errorf("duration %.4f s", d)
			}
			checkTone(t, p.Samples, 1000, 0.5*32768, 0.3)
		})
	}
}
