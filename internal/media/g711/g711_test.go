package g711

import "testing"

// The reference functions below restate the ITU-T G.191 STL algorithms
// (ulaw_compress/expand, alaw_compress/expand) step by step, with the
// iterative segment search of the reference code, independently of the
// bit-trick formulation used to build the tables.

func refUlawCompress(x int16) byte {
	var absno int
	if x < 0 {
		absno = (int(^x) >> 2) + 33
	} else {
		absno = (int(x) >> 2) + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	segno := 1
	for i := absno >> 6; i != 0; i >>= 1 {
		segno++
	}
	high := 8 - segno
	low := 0x0F - ((absno >> segno) & 0x0F)
	out := high<<4 | low
	if x >= 0 {
		out |= 0x80
	}
	return byte(out)
}

func refUlawExpand(c byte) int16 {
	sign := 1
	if c < 0x80 {
		sign = -1
	}
	m := int(^c)
	exponent := (m >> 4) & 7
	segment := exponent + 1
	m &= 0x0F
	step := 4 << segment
	return int16(sign * ((0x80 << exponent) + step*m + step/2 - 4*33))
}

func refAlawCompress(x int16) byte {
	var ix int
	if x < 0 {
		ix = int(^x) >> 4
	} else {
		ix = int(x) >> 4
	}
	if ix > 15 {
		iexp := 1
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix ^ 0x55)
}

func refAlawExpand(c byte) int16 {
	ix := int(c^0x55) & 0x7F
	iexp := ix >> 4
	mant := ix & 0x0F
	if iexp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if iexp > 1 {
		mant <<= iexp - 1
	}
	if c > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

func TestGoldenEncodeAllSamples(t *testing.T) {
	for i := range 1 << 16 {
		s := int16(uint16(i))
		if got, want := EncodeUlaw(s), refUlawCompress(s); got != want {
			t.Fatalf("EncodeUlaw(%d) = %#02x, want %#02x", s, got, want)
		}
		if got, want := EncodeAlaw(s), refAlawCompress(s); got != want {
			t.Fatalf("EncodeAlaw(%d) = %#02x, want %#02x", s, got, want)
		}
	}
}

func TestGoldenDecodeAllCodes(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		if got, want := DecodeUlaw(c), refUlawExpand(c); got != want {
			t.Fatalf("DecodeUlaw(%#02x) = %d, want %d", c, got, want)
		}
		if got, want := DecodeAlaw(c), refAlawExpand(c); got != want {
			t.Fatalf("DecodeAlaw(%#02x) = %d, want %d", c, got, want)
		}
	}
}

// Well-known values from G.711 tables 1 and 2 (scaled to 16 bits).
func TestKnownValues(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"ulaw encode 0", int(EncodeUlaw(0)), 0xFF},
		{"ulaw encode -1", int(EncodeUlaw(-1)), 0x7F},
		{"ulaw encode max", int(EncodeUlaw(32767)), 0x80},
		{"ulaw encode min", int(EncodeUlaw(-32768)), 0x00},
		{"ulaw decode 0xFF", int(DecodeUlaw(0xFF)), 0},
		{"ulaw decode 0x7F", int(DecodeUlaw(0x7F)), 0},
		{"ulaw decode 0x80", int(DecodeUlaw(0x80)), 32124},
		{"ulaw decode 0x00", int(DecodeUlaw(0x00)), -32124},
		{"alaw encode 0", int(EncodeAlaw(0)), 0xD5},
		{"alaw encode -1", int(EncodeAlaw(-1)), 0x55},
		{"alaw encode max", int(EncodeAlaw(32767)), 0xAA},
		{"alaw encode min", int(EncodeAlaw(-32768)), 0x2A},
		{"alaw decode 0xD5", int(DecodeAlaw(0xD5)), 8},
		{"alaw decode 0x55", int(DecodeAlaw(0x55)), -8},
		{"alaw decode 0xAA", int(DecodeAlaw(0xAA)), 32256},
		{"alaw decode 0x2A", int(DecodeAlaw(0x2A)), -32256},
		{"silence constants", int(UlawSilence)<<8 | int(AlawSilence), int(EncodeUlaw(0))<<8 | int(EncodeAlaw(0))},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d (%#x), want %d (%#x)", tt.name, tt.got, tt.got, tt.want, tt.want)
		}
	}
}

// Every decoded level must encode back to a code with the same level.
func TestRoundTripLevels(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		if v := DecodeUlaw(c); DecodeUlaw(EncodeUlaw(v)) != v {
			t.Errorf("ulaw %#02x: level %d does not round-trip", c, v)
		}
		if v := DecodeAlaw(c); DecodeAlaw(EncodeAlaw(v)) != v {
			t.Errorf("alaw %#02x: level %d does not round-trip", c, v)
		}
	}
}

func TestFrameFunctions(t *testing.T) {
	src := []int16{0, 100, -100, 32767, -32768}
	var enc [8]byte
	var dec [8]int16
	if n := EncodeUlawFrame(enc[:], src); n != len(src) {
		t.Fatalf("EncodeUlawFrame n = %d", n)
	}
	if n := DecodeUlawFrame(dec[:3], enc[:len(src)]); n != 3 {
		t.Fatalf("DecodeUlawFrame n = %d, want 3 (short dst)", n)
	}
	for i := range 3 {
		if dec[i] != DecodeUlaw(EncodeUlaw(src[i])) {
			t.Errorf("ulaw frame sample %d = %d", i, dec[i])
		}
	}
	if n := EncodeAlawFrame(enc[:2], src); n != 2 {
		t.Fatalf("EncodeAlawFrame n = %d, want 2 (short dst)", n)
	}
	if n := DecodeAlawFrame(dec[:], enc[:2]); n != 2 {
		t.Fatalf("DecodeAlawFrame n = %d", n)
	}
	if dec[1] != DecodeAlaw(EncodeAlaw(100)) {
		t.Errorf("alaw frame sample = %d", dec[1])
	}
}

func benchFrame() []int16 {
	f := make([]int16, 160)
	for i := range f {
		f[i] = int16(i*409 - 30000)
	}
	return f
}

func BenchmarkEncodeUlawFrame(b *testing.B) {
	src, dst := benchFrame(), make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		EncodeUlawFrame(dst, src)
	}
}

func BenchmarkDecodeUlawFrame(b *testing.B) {
	src, dst := make([]byte, 160), make([]int16, 160)
	EncodeUlawFrame(src, benchFrame())
	b.ReportAllocs()
	for b.Loop() {
		DecodeUlawFrame(dst, src)
	}
}

func BenchmarkEncodeAlawFrame(b *testing.B) {
	src, dst := benchFrame(), make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		EncodeAlawFrame(dst, src)
	}
}

func BenchmarkDecodeAlawFrame(b *testing.B) {
	src, dst := make([]byte, 160), make([]int16, 160)
	EncodeAlawFrame(src, benchFrame())
	b.ReportAllocs()
	for b.Loop() {
		DecodeAlawFrame(dst, src)
	}
}
