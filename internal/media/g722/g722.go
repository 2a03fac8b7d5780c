package g722

// Encoder keeps the state of one G.722 encoder (one direction of one
// stream): the transmit QMF delay line and the two sub-band ADPCM coders.
// The zero value is an encoder in the reset state, ready to use; NewEncoder
// returns one too. An Encoder must not be used by several goroutines at
// once.
type Encoder struct {
	x    [24]int32 // transmit QMF delay line, x[23] the newest sample
	low  band
	high band
}

// Decoder keeps the state of one G.722 decoder. The zero value is a
// decoder in the reset state, ready to use; NewDecoder returns one too.
// A Decoder must not be used by several goroutines at once.
type Decoder struct {
	xd, xs [12]int32 // receive QMF delay lines of r_L-r_H and r_L+r_H, [11] newest
	low    band
	high   band
}

// NewEncoder returns an encoder in the reset state.
func NewEncoder() *Encoder { return new(Encoder) }

// NewDecoder returns a decoder in the reset state.
func NewDecoder() *Decoder { return new(Decoder) }

// Reset returns the encoder to its initial state.
func (e *Encoder) Reset() { *e = Encoder{} }

// Reset returns the decoder to its initial state.
func (d *Decoder) Reset() { *d = Decoder{} }

// Encode encodes 16 kHz 16-bit samples, two per output byte, into dst and
// returns the number of bytes written: min(len(pcm)/2, len(dst)). pcm
// should have an even length; a trailing odd sample is ignored (it is not
// kept for the next call).
//
// Each byte carries the 2-bit higher sub-band code in bits 7-6 and the
// 6-bit lower sub-band code in bits 5-0.
func (e *Encoder) Encode(dst []byte, pcm []int16) int {
	n := min(len(pcm)/2, len(dst))
	pcm, dst = pcm[:2*n], dst[:n]
	for i := range dst {
		dst[i] = e.encodePair(int32(pcm[2*i]), int32(pcm[2*i+1]))
	}
	return n
}

// encodePair encodes two consecutive 16 kHz samples into one byte.
func (e *Encoder) encodePair(x0, x1 int32) byte {
	xl, xh := e.analyze(x0, x1)
	il := e.low.lowEncode(xl)
	ih := e.high.highEncode(xh)
	return byte(ih<<6 | il)
}

// analyze pushes two input samples (x0 then x1) through the transmit QMF
// and returns the lower and higher sub-band samples (15-bit range for a
// 16-bit input).
func (e *Encoder) analyze(x0, x1 int32) (xl, xh int32) {
	copy(e.x[:22], e.x[2:])
	e.x[22], e.x[23] = x0, x1
	// x_A = Σ h(2i)·x(j-2i) over the newest sample and every other one
	// before it; x_B = Σ h(2i+1)·x(j-2i-1) over the others.
	var sa, sb int32
	for i := 0; i < 12; i++ {
		sa += qmfCoef[2*i] * e.x[23-2*i]
		sb += qmfCoef[2*i+1] * e.x[22-2*i]
	}
	// The coefficients carry 2^13 and the sub-band signals are kept at
	// half the 16-bit input scale (15 bits): shift by 14.
	return (sa + sb) >> 14, (sa - sb) >> 14
}

// Decode decodes G.722 bytes (64 kbit/s, mode 1: all six lower sub-band
// bits are audio) into dst, two 16 kHz samples per byte, and returns the
// number of samples written: 2*min(len(data), len(dst)/2).
func (d *Decoder) Decode(dst []int16, data []byte) int {
	n := min(len(data), len(dst)/2)
	data, dst = data[:n], dst[:2*n]
	for i, c := range data {
		dst[2*i], dst[2*i+1] = d.decodeByte(c)
	}
	return 2 * n
}

// decodeByte decodes one byte into two consecutive 16 kHz samples.
func (d *Decoder) decodeByte(c byte) (int16, int16) {
	rl := d.low.lowDecode(int32(c & 0x3f))
	rh := d.high.highDecode(int32(c >> 6))
	return d.synthesize(rl, rh)
}

// synthesize pushes one pair of sub-band samples through the receive QMF
// and returns the two output samples in time order.
func (d *Decoder) synthesize(rl, rh int32) (int16, int16) {
	copy(d.xd[:11], d.xd[1:])
	copy(d.xs[:11], d.xs[1:])
	d.xd[11], d.xs[11] = rl-rh, rl+rh
	// x_out(j) = 2 Σ h(2i)·x_d(i), x_out(j+1) = 2 Σ h(2i+1)·x_s(i), i = 0
	// the newest.
	var s0, s1 int32
	for i := 0; i < 12; i++ {
		s0 += qmfCoef[2*i] * d.xd[11-i]
		s1 += qmfCoef[2*i+1] * d.xs[11-i]
	}
	// 2^13 coefficient scale, ×2 of the synthesis and ×2 back from the
	// 15-bit sub-band scale: shift by 11.
	return int16(sat16(s0 >> 11)), int16(sat16(s1 >> 11))
}
