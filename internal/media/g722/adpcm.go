package g722

// band is the adaptive state shared by the encoder and the decoder of one
// sub-band: the log scale factor of the quantizer and the pole/zero
// predictor with its signal history. The encoder and the decoder update it
// with the same (quantized) values, so with an error-free channel the two
// copies stay identical. The zero value is the reset state.
type band struct {
	est     int32    // s: signal estimate for the next sample (estPole+estZero)
	estZero int32    // s_z: output of the zero (FIR) section
	a1, a2  int32    // pole coefficients, Q14
	b       [6]int32 // zero coefficients b1..b6, Q14
	dq      [6]int32 // quantized differences d(n-1)..d(n-6)
	r1, r2  int32    // reconstructed signal r(n-1), r(n-2)
	p1, p2  int32    // partially reconstructed signal p(n-1), p(n-2)
	logStep int32    // ∇: log scale factor (0..lowLogMax or highLogMax)
}

// sat16 limits v to the 16-bit two's complement range, as the
// Recommendation's 16-bit arithmetic does.
func sat16(v int32) int32 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

// lim15 limits v to the 15-bit range of the sub-band signals.
func lim15(v int32) int32 {
	if v > 16383 {
		return 16383
	}
	if v < -16384 {
		return -16384
	}
	return v
}

// neg reports the sign bit of a 16-bit quantity (zero counts as positive).
func neg(v int32) bool { return v < 0 }

// scale turns a log scale factor into a linear scale factor (blocks SCALEL
// and SCALEH): 2^(∇/2048) times 2048>>shift0, computed as the 5-bit
// fractional mantissa from log2Table shifted by the integer part, with the
// Recommendation's truncation (shift right, then two bits left).
// shift0 is 8 for the lower and 10 for the higher sub-band.
func scale(logStep int32, shift0 int32) int32 {
	m := log2Table[(logStep>>6)&31]
	sh := shift0 - logStep>>11
	if sh < 0 {
		m <<= uint(-sh)
	} else {
		m >>= uint(sh)
	}
	return m << 2
}

// lowStep and highStep are the current quantizer scale factors Δ_L, Δ_H.
func (s *band) lowStep() int32  { return scale(s.logStep, 8) }
func (s *band) highStep() int32 { return scale(s.logStep, 10) }

// adaptLow updates the lower sub-band log scale factor from the 4-bit code
// (block LOGSCL): leak by 127/128 and add W_L.
func (s *band) adaptLow(code4 int32) {
	v := (s.logStep*32512)>>15 + lowLogStep[lowClass4[code4]]
	s.logStep = min(max(v, 0), lowLogMax)
}

// adaptHigh updates the higher sub-band log scale factor (block LOGSCH).
func (s *band) adaptHigh(code int32) {
	v := (s.logStep*32512)>>15 + highLogStep[highClass[code]]
	s.logStep = min(max(v, 0), highLogMax)
}

// update runs block 4 of the Recommendation for one quantized difference
// d: reconstruct the signal, adapt the pole and zero predictor
// coefficients, shift the delay lines and compute the signal estimate for
// the next sample.
func (s *band) update(d int32) {
	r := sat16(s.est + d)     // RECONS
	p := sat16(s.estZero + d) // PARREC

	// UPPOL2: a2 ← (1-2^-7)a2 + 2^-7 sgn(p)sgn(p2) - 2^-7 f(a1) sgn(p)sgn(p1),
	// with f(a1) = 4a1 limited to ±2.
	pn := neg(p)
	f := sat16(s.a1 << 2)
	if pn == neg(s.p1) {
		f = -f
	}
	f = min(f, 32767)
	a2 := f >> 7
	if pn == neg(s.p2) {
		a2 += 128
	} else {
		a2 -= 128
	}
	a2 += (s.a2 * 32512) >> 15
	a2 = min(max(a2, -12288), 12288)

	// UPPOL1: a1 ← (1-2^-8)a1 + 3·2^-8 sgn(p)sgn(p1), |a1| ≤ 1-2^-4-a2.
	a1 := (s.a1 * 32640) >> 15
	if pn == neg(s.p1) {
		a1 += 192
	} else {
		a1 -= 192
	}
	a1 = sat16(a1)
	lim := sat16(15360 - a2)
	a1 = min(max(a1, -lim), lim)

	// UPZERO: b_i ← (1-2^-8)b_i + 2^-7 sgn(d)sgn(d_i), no gain term if d = 0.
	var g int32
	if d != 0 {
		g = 128
	}
	dn := neg(d)
	for i := range s.b {
		bi := (s.b[i] * 32640) >> 15
		if dn == neg(s.dq[i]) {
			bi += g
		} else {
			bi -= g
		}
		s.b[i] = sat16(bi)
	}

	// DELAYA.
	copy(s.dq[1:], s.dq[:5])
	s.dq[0] = d
	s.a1, s.a2 = a1, a2
	s.r2, s.r1 = s.r1, r
	s.p2, s.p1 = s.p1, p

	// FILTEP: pole section a1·r1 + a2·r2.
	pole := (s.a1*sat16(s.r1+s.r1))>>15 + (s.a2*sat16(s.r2+s.r2))>>15
	pole = sat16(pole)

	// FILTEZ: zero section Σ b_i·d_i.
	var zero int32
	for i := range s.b {
		zero += (s.b[i] * sat16(s.dq[i]+s.dq[i])) >> 15
	}
	s.estZero = sat16(zero)

	// PREDIC.
	s.est = sat16(pole + s.estZero)
}

// lowEncode quantizes one lower sub-band sample x (15-bit) to a 6-bit
// code and updates the state (blocks SUBTRA, QUANTL, INVQAL, LOGSCL,
// SCALEL and block 4L).
func (s *band) lowEncode(x int32) int32 {
	det := s.lowStep()
	e := sat16(x - s.est)
	// QUANTL: magnitude by one's complement for negative e, then find the
	// interval mL with lowDecision[mL-1]·Δ ≤ |e| < lowDecision[mL]·Δ.
	w := e
	if e < 0 {
		w = ^e
	}
	// The thresholds grow with mL: binary search for the first one above w.
	m, hi := 1, 30
	for m < hi {
		mid := int(uint(m+hi) >> 1)
		if w >= (lowDecision[mid]*det)>>12 {
			m = mid + 1
		} else {
			hi = mid
		}
	}
	var code int32
	if e < 0 {
		code = int32(lowCodeNeg[m])
	} else {
		code = int32(lowCodePos[m])
	}
	s.lowFeedback(code, det)
	return code
}

// lowFeedback runs the part of the lower sub-band coder that both the
// encoder and the decoder perform: the 4-bit inverse quantizer (INVQAL),
// scale factor adaptation and predictor update.
func (s *band) lowFeedback(code, det int32) {
	c4 := code >> 2
	d := (det * lowQ4[c4]) >> 12
	s.adaptLow(c4)
	s.update(d)
}

// lowDecode reconstructs one lower sub-band sample from a 6-bit code
// (INVQBL with 6 bits, i.e. mode 1) and updates the state.
func (s *band) lowDecode(code int32) int32 {
	det := s.lowStep()
	r := lim15(s.est + (det*lowQ6[code])>>12)
	s.lowFeedback(code, det)
	return r
}

// highEncode quantizes one higher sub-band sample to a 2-bit code and
// updates the state (blocks SUBTRA, QUANTH, INVQAH, LOGSCH, SCALEH, 4H).
func (s *band) highEncode(x int32) int32 {
	det := s.highStep()
	e := sat16(x - s.est)
	w := e
	if e < 0 {
		w = ^e
	}
	outer := w >= (highDecision*det)>>12
	var code int32
	switch {
	case e < 0 && outer:
		code = 0
	case e < 0:
		code = 1
	case outer:
		code = 2
	default:
		code = 3
	}
	s.highFeedback(code, det)
	return code
}

func (s *band) highFeedback(code, det int32) {
	d := (det * highQ2[code]) >> 12
	s.adaptHigh(code)
	s.update(d)
}

// highDecode reconstructs one higher sub-band sample from a 2-bit code.
func (s *band) highDecode(code int32) int32 {
	det := s.highStep()
	d := (det * highQ2[code]) >> 12
	r := lim15(s.est + d)
	s.adaptHigh(code)
	s.update(d)
	return r
}
