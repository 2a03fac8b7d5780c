package g722

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// The ITU-T digital test sequences of G.722 Appendix II and the ITU-T
// G.191 (STL) reference speech files are not redistributed with this
// package. When G722_ITU_VECTORS names a directory holding them in the
// big-endian binary form of the STL distribution (bt1c1.xmt, bt2r1.cod,
// bt3l1.rc1, ..., inpsp.bin, codsp.cod, outsp1.bin) the tests below check
// the codec against them bit for bit; otherwise they are skipped.

func ituDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("G722_ITU_VECTORS")
	if dir == "" {
		t.Skip("G722_ITU_VECTORS not set; ITU-T test sequences not available")
	}
	return dir
}

func readWords(t *testing.T, dir, name string) []uint16 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	w := make([]uint16, len(b)/2)
	for i := range w {
		w[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return w
}

// Appendix II configuration 1: the ADPCM encoders with the QMF by-passed,
// the same 15-bit input applied to both sub-bands. Word bit 0 is a reset
// flag; the 15-bit sample is in bits 15..1. The output words carry the
// 8-bit code in their upper byte.
func TestITUEncoderSequences(t *testing.T) {
	dir := ituDir(t)
	for _, tc := range []struct{ in, want string }{
		{"bt1c1.xmt", "bt2r1.cod"},
		{"bt1c2.xmt", "bt2r2.cod"},
	} {
		in, want := readWords(t, dir, tc.in), readWords(t, dir, tc.want)
		if len(in) != len(want) {
			t.Fatalf("%s: length %d vs %d", tc.in, len(in), len(want))
		}
		var lo, hi band
		bad := 0
		for i, w := range in {
			if w&1 != 0 {
				lo, hi = band{}, band{}
				continue
			}
			x := int32(int16(w)) >> 1
			il := lo.lowEncode(x)
			ih := hi.highEncode(x)
			got := uint16(ih<<6|il) << 8
			if got != want[i]&0xff00 {
				if bad < 5 {
					t.Errorf("%s word %d: code %#04x, want %#04x", tc.in, i, got>>8, want[i]>>8)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d codes differ", tc.in, bad, len(in))
		}
	}
}

// Appendix II configuration 2: the ADPCM decoders, QMF by-passed; mode 1
// lower sub-band output (.rc1) and higher sub-band output (.rc0).
func TestITUDecoderSequences(t *testing.T) {
	dir := ituDir(t)
	for _, tc := range []struct{ in, low, high string }{
		{"bt2r1.cod", "bt3l1.rc1", "bt3h1.rc0"},
		{"bt2r2.cod", "bt3l2.rc1", "bt3h2.rc0"},
		{"bt1d3.cod", "bt3l3.rc1", "bt3h3.rc0"},
	} {
		in := readWords(t, dir, tc.in)
		wl, wh := readWords(t, dir, tc.low), readWords(t, dir, tc.high)
		var lo, hi band
		bad := 0
		for i, w := range in {
			if w&1 != 0 {
				lo, hi = band{}, band{}
				continue
			}
			c := int32(w >> 8)
			rl := lo.lowDecode(c & 0x3f)
			rh := hi.highDecode(c >> 6)
			gl, gh := uint16(rl<<1), uint16(rh<<1)
			if gl != wl[i]&^1 || gh != wh[i]&^1 {
				if bad < 5 {
					t.Errorf("%s word %d: low %#04x want %#04x, high %#04x want %#04x",
						tc.in, i, gl, wl[i], gh, wh[i])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d samples differ", tc.in, bad, len(in))
		}
	}
}

// The G.191 STL reference files: inpsp.bin (16 kHz speech) encoded by the
// STL G.722 encoder with its QMF is codsp.cod, and codsp.cod decoded in
// mode 1 is outsp1.bin.
func TestITUSpeechFiles(t *testing.T) {
	dir := ituDir(t)
	inw := readWords(t, dir, "inpsp.bin")
	cod, err := os.ReadFile(filepath.Join(dir, "codsp.cod"))
	if err != nil {
		t.Fatal(err)
	}
	outw := readWords(t, dir, "outsp1.bin")
	pcm := make([]int16, len(inw))
	for i, w := range inw {
		pcm[i] = int16(w)
	}
	got := make([]byte, len(pcm)/2)
	NewEncoder().Encode(got, pcm)
	bad := 0
	for i := range got {
		if got[i] != cod[i] {
			if bad < 5 {
				t.Errorf("codsp byte %d: %#02x want %#02x", i, got[i], cod[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("encoder: %d of %d bytes differ", bad, len(got))
	}
	dec := make([]int16, 2*len(cod))
	NewDecoder().Decode(dec, cod)
	bad = 0
	for i := range dec {
		if uint16(dec[i]) != outw[i] {
			if bad < 5 {
				t.Errorf("outsp1 sample %d: %d want %d", i, dec[i], int16(outw[i]))
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("decoder: %d of %d samples differ", bad, len(dec))
	}
}
