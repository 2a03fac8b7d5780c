package g722

// Half-band FIR used to convert between 8 kHz and 16 kHz.
//
// The filter has 47 taps, h(23) = 1/2 in the middle, every other tap zero
// and the 24 others symmetric: h(23±(2j+1)) = halfBand[j]/2^15. Its
// zero-phase response is 1/2 + Σ 2h_j·cos((2j+1)ω), so H(π-ω) = 1-H(ω):
// the passband fixes the stopband. It is an equiripple (minimax) design
// for a 0-3400 Hz passband at 16 kHz, hence a 4600-8000 Hz stopband,
// computed offline by iteratively reweighted least squares (Lawson's
// algorithm) and rounded to Q15. The rounded taps give a passband ripple
// of about ±0.006 dB and a stopband attenuation of about 62 dB
// (TestHalfBandResponse checks both); the twelve taps sum to 8182, not
// 8192, so the gain at DC is 1-0.0006 (-0.005 dB), within the ripple.
var halfBand = [12]int64{
	10387, -3347, 1876, -1208, 816, -556, 375, -246, 155, -92, 49, -27,
}

const (
	halfBandTaps = 47
	// The interpolator emits each 8 kHz sample 24 samples (16 kHz) late,
	// followed by the sample interpolated after it. The decimator's output
	// m is centred on decoded sample 2m-22. With the 22 samples of the
	// codec's QMFs this gives the whole narrowband chain an integer delay.
	interpDelay16 = 24
	decimDelay16  = 22
	codecDelay16  = 22 // transmit plus receive QMF
	// NarrowDelay is the delay, in 8 kHz samples, of NarrowEncoder
	// followed by NarrowDecoder: (24+22+22)/2 = 34 samples, 4.25 ms.
	NarrowDelay = (interpDelay16 + codecDelay16 + decimDelay16) / 2
	// Delay is the delay of Encoder followed by Decoder, in 16 kHz
	// samples: 22 samples, 1.375 ms.
	Delay = codecDelay16
)

// ring24 holds the last 24 samples of a signal. Each sample is stored
// twice so that the last 24 are always contiguous in buf.
type ring24 struct {
	buf [48]int32
	pos int // the oldest sample is buf[pos], the newest buf[pos+23]
}

func (r *ring24) push(v int32) {
	r.buf[r.pos] = v
	r.buf[r.pos+24] = v
	r.pos++
	if r.pos == 24 {
		r.pos = 0
	}
}

// window returns the last 24 samples, oldest first.
func (r *ring24) window() *[24]int32 { return (*[24]int32)(r.buf[r.pos : r.pos+24]) }

// midpoint applies the half-band filter's non-centre taps around the point
// halfway between w[11] and w[12]: Σ h_j·(w[11-j]+w[12+j]), in Q15. Doubled
// (the interpolation gain) it is the interpolated sample at that point;
// plus the centre tap's term it is the decimator's output.
func midpoint(w *[24]int32) int64 {
	var acc int64
	for j, c := range halfBand {
		acc += c * int64(w[11-j]+w[12+j])
	}
	return acc
}

func round15(acc int64) int16 {
	v := (acc + 1<<14) >> 15
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

// NarrowEncoder encodes 8 kHz audio as G.722: it upsamples to 16 kHz with a
// stateful half-band low-pass interpolator and encodes the result, so 160
// samples (20 ms) in give 160 bytes out. The filter history is carried
// from call to call, so consecutive frames join without clicks. The zero
// value is ready to use.
type NarrowEncoder struct {
	hist ring24
	enc  Encoder
}

// NewNarrowEncoder returns a NarrowEncoder in the reset state.
func NewNarrowEncoder() *NarrowEncoder { return new(NarrowEncoder) }

// Reset returns the encoder and its interpolator to the initial state.
func (e *NarrowEncoder) Reset() { *e = NarrowEncoder{} }

// Encode encodes 8 kHz samples, one output byte per input sample, into dst
// and returns the number of bytes written: min(len(pcm8k), len(dst)).
func (e *NarrowEncoder) Encode(dst []byte, pcm8k []int16) int {
	n := min(len(pcm8k), len(dst))
	for i, x := range pcm8k[:n] {
		e.hist.push(int32(x))
		w := e.hist.window()
		// The original sample, then the one interpolated after it.
		dst[i] = e.enc.encodePair(w[11], int32(round15(2*midpoint(w))))
	}
	return n
}

// NarrowDecoder decodes G.722 to 8 kHz audio: it decodes to 16 kHz and
// decimates with a stateful half-band anti-alias low-pass filter, so 160
// bytes in give 160 samples (20 ms) out. The filter history is carried
// from call to call. The zero value is ready to use.
type NarrowDecoder struct {
	odd  ring24    // the second sample of each decoded pair
	even [12]int32 // the first sample of each pair, [11] the newest
	dec  Decoder
}

// NewNarrowDecoder returns a NarrowDecoder in the reset state.
func NewNarrowDecoder() *NarrowDecoder { return new(NarrowDecoder) }

// Reset returns the decoder and its decimator to the initial state.
func (d *NarrowDecoder) Reset() { *d = NarrowDecoder{} }

// Decode decodes G.722 bytes, one 8 kHz output sample per byte, into dst
// and returns the number of samples written: min(len(data), len(dst)).
func (d *NarrowDecoder) Decode(dst []int16, data []byte) int {
	n := min(len(data), len(dst))
	for i := range n {
		y0, y1 := d.dec.decodeByte(data[i])
		copy(d.even[:11], d.even[1:])
		d.even[11] = int32(y0)
		d.odd.push(int32(y1))
		// Output at the newest (odd) input sample: the centre tap falls on
		// the even sample 23 input samples back, the other taps on odd
		// samples either side of it.
		acc := int64(d.even[0])<<14 + midpoint(d.odd.window())
		dst[i] = round15(acc)
	}
	return n
}
