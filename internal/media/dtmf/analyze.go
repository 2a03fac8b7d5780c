package dtmf

import "math"

// Acceptance thresholds (ITU-T Q.24 Table 1; see the package documentation).
// Powers are mean powers, A²/2 for a sine of peak amplitude A.
var (
	minTonePower = float32(levelAmplitude(-30) * levelAmplitude(-30) / 2) // each tone ≥ -30 dBm0
	normalTwist  = dB(9)                                                  // low group louder: accept 8 dB, reject 10 dB
	reverseTwist = dB(5)                                                  // high group louder: accept 4 dB, reject 6 dB
	relativePeak = dB(8)                                                  // margin over the other filters of a group
	harmonicMax  = dB(-15)                                                // 2nd harmonic relative to its fundamental
)

const (
	freqTolerance = 0.025  // accept ±1.5%, reject ±3.5% (Q.24)
	minToneShare  = 0.75   // share of the energy the two tones must carry
	preToneShare  = 0.35   // cheap pre-check on the raw Goertzel powers
	harmonicGuard = 200.0  // Hz: skip a harmonic test this close to the other tone
	octaveGuard   = 0.0075 // reject a high tone this close to twice the low one
)

// tone is the measurement of one tone of a window.
type tone struct {
	freq   float64 // estimated frequency, Hz
	p1, p2 float32 // mean power in the two sub-windows
}

func (t tone) power() float32 { return (t.p1 + t.p2) / 2 }

// analyze inspects the window in d.win, whose mean power is e, and returns
// the digit it holds or 0. It does not allocate.
func (d *Detector) analyze(e float32) byte {
	var p [8]float32
	goertzel4(&d.win, (*[4]float32)(tab.coef[0:4]), (*[4]float32)(p[0:4]))
	goertzel4(&d.win, (*[4]float32)(tab.coef[4:8]), (*[4]float32)(p[4:8]))
	r, c := best(p[0:4]), 4+best(p[4:8])
	if p[r]+p[c] < preToneShare*e {
		return 0
	}
	for i := range 4 {
		if (i != r && p[i]*relativePeak > p[r]) || (4+i != c && p[4+i]*relativePeak > p[c]) {
			return 0
		}
	}
	lo, ok := d.measure(r)
	if !ok {
		return 0
	}
	hi, ok := d.measure(c)
	if !ok {
		return 0
	}
	pl, ph := lo.power(), hi.power()
	switch {
	case pl < minTonePower || ph < minTonePower:
		return 0
	case pl > ph*normalTwist || ph > pl*reverseTwist:
		return 0
	case lo.p1+hi.p1 < minToneShare*e || lo.p2+hi.p2 < minToneShare*e:
		return 0
	case !d.harmonicsOK(lo, hi):
		return 0
	}
	return Keypad[4*r+c-4]
}

// goertzel4 runs four Goertzel filters (coefficients c) over x and stores
// each one's estimate of the mean power of a sine at its frequency.
func goertzel4(x *[winLen]float32, c, p *[4]float32) {
	c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
	var a1, a2, b1, b2, d1, d2, e1, e2 float32
	// (v-s2) does not depend on s1, so each filter's loop-carried chain is
	// one multiply and one add.
	for _, v := range x {
		a1, a2 = (v-a2)+c0*a1, a1
		b1, b2 = (v-b2)+c1*b1, b1
		d1, d2 = (v-d2)+c2*d1, d1
		e1, e2 = (v-e2)+c3*e1, e1
	}
	// |X|² = s1² + s2² - c·s1·s2, and a sine of amplitude A gives
	// |X| = A·N/2, so mean power A²/2 = 2|X|²/N².
	const k = 2.0 / (winLen * winLen)
	p[0] = k * (a1*a1 + a2*a2 - c0*a1*a2)
	p[1] = k * (b1*b1 + b2*b2 - c1*b1*b2)
	p[2] = k * (d1*d1 + d2*d2 - c2*d1*d2)
	p[3] = k * (e1*e1 + e2*e2 - c3*e1*e2)
}

func best(p []float32) int {
	b := 0
	for i := 1; i < len(p); i++ {
		if p[i] > p[b] {
			b = i
		}
	}
	return b
}

// measure estimates frequency and power of the tone near filter f from
// Hann-windowed DFTs of two sub-windows subHop samples apart: a sine at
// f+δ advances their phase by 2π·δ·subHop/SampleRate. The Hann window
// keeps the other tone (at least 268 Hz away) 35 dB down. The power is
// corrected for the window's response at δ. It reports false when δ
// exceeds the frequency tolerance.
func (d *Detector) measure(f int) (tone, bool) {
	var re, im [2]float32
	for s := range 2 {
		x := (*[subLen]float32)(d.win[s*subHop:])
		cs, sn := &tab.subCos[s][f], &tab.subSin[s][f]
		var a, b float32
		for m, v := range x {
			a += v * cs[m]
			b += v * sn[m]
		}
		re[s], im[s] = a, b
	}
	// X2·conj(X1)
	dr := float64(re[1]*re[0] + im[1]*im[0])
	di := float64(im[1]*re[0] - re[1]*im[0])
	delta := math.Atan2(di, dr) * SampleRate / (2 * math.Pi * subHop)
	nominal := freqs[f]
	if math.Abs(delta) > freqTolerance*nominal {
		return tone{}, false
	}
	// |X| = (A/2)·Σw·H(b) with Σw = subLen/2, so A²/2 = 2|X|²/(Σw·H)².
	g := subLen / 2 * hannResponse(delta*subLen/SampleRate)
	k := float32(2 / (g * g))
	return tone{
		freq: nominal + delta,
		p1:   k * (re[0]*re[0] + im[0]*im[0]),
		p2:   k * (re[1]*re[1] + im[1]*im[1]),
	}, true
}

// hannResponse is the normalised magnitude response of a Hann window b
// bins off centre: sinc(b)/(1-b²), for |b| < 1.
func hannResponse(b float64) float64 {
	if math.Abs(b) < 1e-6 {
		return 1
	}
	x := math.Pi * b
	return math.Sin(x) / x / (1 - b*b)
}

// harmonicsOK checks that neither tone has a strong second harmonic, as
// voiced speech and most instruments do. A harmonic closer than
// harmonicGuard to the other tone (2·697 Hz is next to 1336 Hz) cannot be
// told from it and is not tested; instead the high tone must not be the
// low tone's octave, as when a note and its first overtone fall near 852
// and 1633 Hz ("C"), 697 and 1336 Hz ("2") or 770 and 1477 Hz ("6"). No
// DTMF pair is within 4% of an octave, nor within 1.2% with both tones
// 1.5% off, so this rejects no valid digit.
func (d *Detector) harmonicsOK(lo, hi tone) bool {
	if math.Abs(2*lo.freq-hi.freq) < octaveGuard*hi.freq {
		return false
	}
	for i, v := range d.win {
		d.aux[i] = v * tab.hann[i]
	}
	f := [4]float64{lo.freq, 2 * lo.freq, hi.freq, 2 * hi.freq}
	var c, p [4]float32
	for i, hz := range f {
		c[i] = float32(2 * math.Cos(2*math.Pi*hz/SampleRate))
	}
	goertzel4(&d.aux, &c, &p)
	testLo := math.Abs(f[1]-hi.freq) >= harmonicGuard
	return (!testLo || p[1] <= harmonicMax*p[0]) && p[3] <= harmonicMax*p[2]
}
