// Package g711 implements the ITU-T G.711 companding laws (µ-law and A-law)
// used by the PCMU and PCMA RTP payload formats (RFC 3551 §4.5.14).
//
// Samples are 16-bit linear PCM. The conversions are bit-exact with the
// ITU-T reference implementation (the G.191 Software Tool Library): µ-law
// operates on the 14 most significant bits of a sample and A-law on the 12
// most significant bits, with negative values mapped to a magnitude by one's
// complement. Decoded values are left-justified to 16 bits.
//
// Everything is table driven: encoding a sample is one lookup into a 16 KiB
// (µ-law) or 4 KiB (A-law) table and decoding is a lookup into a 256-entry
// table. The frame functions never allocate.
package g711

import "math/bits"

const (
	// UlawSilence is the µ-law code for a zero sample ("positive zero").
	UlawSilence byte = 0xFF
	// AlawSilence is the A-law code for the smallest positive level.
	AlawSilence byte = 0xD5
)

var (
	ulawEnc = buildUlawEncode() // indexed by uint16(sample) >> 2
	alawEnc = buildAlawEncode() // indexed by uint16(sample) >> 4
	ulawDec = buildUlawDecode()
	alawDec = buildAlawDecode()
)

// EncodeUlaw compresses one linear sample to a µ-law code.
func EncodeUlaw(s int16) byte { return ulawEnc[uint16(s)>>2] }

// DecodeUlaw expands one µ-law code to a linear sample.
func DecodeUlaw(c byte) int16 { return ulawDec[c] }

// EncodeAlaw compresses one linear sample to an A-law code.
func EncodeAlaw(s int16) byte { return alawEnc[uint16(s)>>4] }

// DecodeAlaw expands one A-law code to a linear sample.
func DecodeAlaw(c byte) int16 { return alawDec[c] }

// EncodeUlawFrame encodes min(len(dst), len(src)) samples and returns that count.
func EncodeUlawFrame(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = ulawEnc[uint16(s)>>2]
	}
	return n
}

// DecodeUlawFrame decodes min(len(dst), len(src)) codes and returns that count.
func DecodeUlawFrame(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = ulawDec[c]
	}
	return n
}

// EncodeAlawFrame encodes min(len(dst), len(src)) samples and returns that count.
func EncodeAlawFrame(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = alawEnc[uint16(s)>>4]
	}
	return n
}

// DecodeAlawFrame decodes min(len(dst), len(src)) codes and returns that count.
func DecodeAlawFrame(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, c := range src {
		dst[i] = alawDec[c]
	}
	return n
}

// magnitude returns the sign and the one's-complement magnitude of s after
// dropping its shift least significant bits, as G.711 expects.
func magnitude(s int16, shift uint) (neg bool, mag int) {
	if s < 0 {
		return true, int(^s) >> shift
	}
	return false, int(s) >> shift
}

// ulawCompress is the µ-law encoder on which the lookup table is built.
// The 14-bit magnitude is biased by 33 so that every segment boundary is a
// power of two; the segment is then the position of the highest set bit
// above bit 5 and the mantissa the four bits below it. The code is
// transmitted with all bits inverted (G.711 Table 2).
func ulawCompress(s int16) byte {
	neg, mag := magnitude(s, 2)
	mag = min(mag+33, 0x1FFF)
	seg := bits.Len(uint(mag >> 6)) // 0..7
	code := byte(seg<<4) | byte(mag>>(seg+1))&0x0F
	if neg {
		code |= 0x80
	}
	return ^code
}

// alawCompress is the A-law encoder on which the lookup table is built. The
// first two segments of the 12-bit magnitude share the same step size, so
// magnitudes below 32 are their own code; above that the segment follows
// from the highest set bit. Even bits are inverted on the wire (G.711 Table 1).
func alawCompress(s int16) byte {
	neg, mag := magnitude(s, 4)
	var code byte
	if mag < 32 {
		code = byte(mag)
	} else {
		seg := bits.Len(uint(mag)) - 4 // 2..7
		code = byte(seg<<4) | byte(mag>>(seg-1))&0x0F
	}
	if !neg {
		code |= 0x80
	}
	return code ^ 0x55
}

func ulawExpand(c byte) int16 {
	u := ^c
	seg := (u >> 4) & 0x07
	mant := int(u & 0x0F)
	mag := ((mant<<3)+0x84)<<seg - 0x84
	if u&0x80 != 0 {
		return int16(-mag)
	}
	return int16(mag)
}

func alawExpand(c byte) int16 {
	t := c ^ 0x55
	seg := (t >> 4) & 0x07
	mant := int(t & 0x0F)
	var mag int
	if seg == 0 {
		mag = mant<<4 + 8
	} else {
		mag = ((mant+16)<<4 + 8) << (seg - 1)
	}
	if c&0x80 == 0 {
		return int16(-mag)
	}
	return int16(mag)
}

func buildUlawEncode() *[1 << 14]byte {
	var t [1 << 14]byte
	for i := range t {
		t[i] = ulawCompress(int16(uint16(i) << 2))
	}
	return &t
}

func buildAlawEncode() *[1 << 12]byte {
	var t [1 << 12]byte
	for i := range t {
		t[i] = alawCompress(int16(uint16(i) << 4))
	}
	return &t
}

func buildUlawDecode() *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = ulawExpand(byte(i))
	}
	return &t
}

func buildAlawDecode() *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = alawExpand(byte(i))
	}
	return &t
}
