package audio

import (
	"math"
	"sync"
)

// Resampler design. Output sample m sits at input time t = m*from/to. It is
// the dot product of the input around t with a Kaiser-windowed sinc whose
// cutoff lies inside the lower of the two Nyquist bands, so downsampling
// removes what would alias and upsampling removes the images.
//
// With g = gcd(from, to), L = to/g and M = from/g, t = m*M/L: the fraction
// of t takes one of L values (the phases). For L <= maxExactPhases the
// kernel is tabulated exactly for every phase (48 kHz -> 8 kHz has one phase,
// 44.1 kHz -> 8 kHz has 80). Otherwise interpPhases+1 rows are tabulated and
// coefficients are interpolated linearly between the two nearest rows.
const (
	// Filter edges as fractions of the lower rate: flat to 0.43 (3440 Hz
	// at 8 kHz), at least stopAttenDB down from 0.50 (4000 Hz) on.
	passEdge    = 0.43
	stopEdge    = 0.50
	stopAttenDB = 60.0

	maxExactPhases = 512
	interpPhases   = 256

	// MinResampleRate and MaxResampleRate bound the rates Resample accepts.
	MinResampleRate = 1000
	MaxResampleRate = 192000

	// maxCachedCoefs keeps pathological rate pairs out of the kernel cache.
	maxCachedCoefs = 1 << 20
	maxCachedPairs = 32
)

// Resample converts src, sampled at fromRate Hz, to toRate Hz and returns
// the result appended to dst[:0] (dst is grown when its capacity is too
// small, so pass the previous result to reuse its memory).
//
// The output has ceil(len(src)*toRate/fromRate) samples, with output sample
// 0 aligned on input sample 0; the filter is linear-phase and centred, so
// there is no delay. Samples outside src are taken as silence. The filter
// is flat (well within ±0.1 dB) up to 43 % of the lower rate's band
// (3440 Hz when either side is 8 kHz) and attenuates everything from that
// lower rate's Nyquist frequency on by at least 60 dB.
//
// Both rates must lie in [MinResampleRate, MaxResampleRate]; otherwise
// Resample returns dst[:0]. Equal rates copy src. Resample is safe for
// concurrent use; the filter tables of recently used rate pairs are cached.
func Resample(dst, src []int16, fromRate, toRate int) []int16 {
	dst = dst[:0]
	if !validRate(fromRate) || !validRate(toRate) {
		return dst
	}
	if fromRate == toRate {
		return append(dst, src...)
	}
	k := getKernel(fromRate, toRate)
	total := k.outputs(int64(len(src)))
	dst = grow(dst, int(total))
	for m := int64(0); m < total; m++ {
		dst = append(dst, quantize(sampleAt(k, m, src, 0)))
	}
	return dst
}

func validRate(r int) bool { return r >= MinResampleRate && r <= MaxResampleRate }

func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) < n {
		ns := make([]T, len(s), len(s)+n)
		copy(ns, s)
		return ns
	}
	return s
}

// quantize rounds v to the nearest int16, saturating.
func quantize(v float32) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v != v: // NaN
		return 0
	}
	return int16(math.Round(float64(v)))
}

// kernel is the tabulated polyphase filter for one rate pair.
type kernel struct {
	l, m  int64 // phases (to/g) and step (from/g)
	taps  int   // coefficients per row, even
	half  int   // taps/2 - 1: the first tap of output m is input floor(t) - half
	exact bool  // one row per phase; otherwise interpolate interpPhases rows
	coef  []float32
}

// outputs is the number of output samples for n input samples:
// ceil(n*to/from).
func (k *kernel) outputs(n int64) int64 { return (n*k.l + k.m - 1) / k.m }

var kernelCache struct {
	sync.Mutex
	m map[[2]int]*kernel
}

func getKernel(from, to int) *kernel {
	key := [2]int{from, to}
	kernelCache.Lock()
	k := kernelCache.m[key]
	kernelCache.Unlock()
	if k != nil {
		return k
	}
	k = newKernel(from, to)
	if len(k.coef) <= maxCachedCoefs {
		kernelCache.Lock()
		if kernelCache.m == nil || len(kernelCache.m) >= maxCachedPairs {
			kernelCache.m = make(map[[2]int]*kernel)
		}
		kernelCache.m[key] = k
		kernelCache.Unlock()
	}
	return k
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func newKernel(from, to int) *kernel {
	g := gcd(from, to)
	k := &kernel{l: int64(to / g), m: int64(from / g)}
	lower := float64(min(from, to))
	fs := float64(from) // the kernel is evaluated in input samples
	cutoff := (passEdge + stopEdge) / 2 * lower / fs
	width := (stopEdge - passEdge) * lower / fs
	// Kaiser's estimates for the window length and shape.
	n := (stopAttenDB - 7.95) / (2.285 * 2 * math.Pi * width)
	k.taps = (int(math.Ceil(n)) + 2) &^ 1
	k.half = k.taps/2 - 1
	beta := 0.1102 * (stopAttenDB - 8.7)

	rows := interpPhases + 1
	k.exact = k.l <= maxExactPhases
	if k.exact {
		rows = int(k.l)
	}
	k.coef = make([]float32, rows*k.taps)
	row := make([]float64, k.taps)
	radius := float64(k.taps) / 2
	i0b := besselI0(beta)
	for r := 0; r < rows; r++ {
		var frac float64
		if k.exact {
			frac = float64(r) / float64(k.l)
		} else {
			frac = float64(r) / interpPhases
		}
		sum := 0.0
		for j := range row {
			tau := frac + float64(k.half-j)
			v := 0.0
			if x := tau / radius; x > -1 && x < 1 {
				v = 2 * cutoff * sinc(2*cutoff*tau) * besselI0(beta*math.Sqrt(1-x*x)) / i0b
			}
			row[j] = v
			sum += v
		}
		// Unity gain at DC for every phase.
		for j, v := range row {
			k.coef[r*k.taps+j] = float32(v / sum)
		}
	}
	return k
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 500; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-16 {
			break
		}
	}
	return sum
}

// sampleAt computes output sample m from x, which holds input samples
// [xStart, xStart+len(x)). Inputs outside x are taken as silence, so x must
// hold everything from max(0, first tap) on that exists.
func sampleAt[T int16 | float32](k *kernel, m int64, x []T, xStart int64) float32 {
	num := m * k.m
	n0 := num / k.l
	p := num % k.l
	lo := n0 - int64(k.half)
	j0, j1 := 0, k.taps
	if lo < xStart {
		j0 = int(min(xStart-lo, int64(k.taps)))
	}
	if end := xStart + int64(len(x)); lo+int64(j1) > end {
		j1 = int(max(end-lo, 0))
	}
	if j0 >= j1 {
		return 0
	}
	xs := x[lo+int64(j0)-xStart : lo+int64(j1)-xStart]
	if k.exact {
		base := int(p) * k.taps
		return dot(k.coef[base+j0:base+j1], xs)
	}
	fp := float64(p) * interpPhases / float64(k.l)
	r := int(fp)
	a := float32(fp - float64(r))
	b0 := r * k.taps
	b1 := b0 + k.taps
	return (1-a)*dot(k.coef[b0+j0:b0+j1], xs) + a*dot(k.coef[b1+j0:b1+j1], xs)
}

// dot is the inner product of row and x[:len(row)].
func dot[T int16 | float32](row []float32, x []T) float32 {
	x = x[:len(row)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(row); i += 4 {
		r := row[i : i+4 : i+4]
		v := x[i : i+4 : i+4]
		s0 += r[0] * float32(v[0])
		s1 += r[1] * float32(v[1])
		s2 += r[2] * float32(v[2])
		s3 += r[3] * float32(v[3])
	}
	for ; i < len(row); i++ {
		s0 += row[i] * float32(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// streamResampler converts a sequentially produced signal (float samples
// on the int16 scale) to SampleRate, keeping only the input window the
// filter still needs. It stops producing output at limit samples and sets
// over.
type streamResampler struct {
	k        *kernel // nil when the rates are equal
	win      []float32
	winStart int64 // input index of win[0]
	next     int64 // next output index
	out      []int16
	limit    int
	over     bool
}

func newStreamResampler(fromRate, expectOut, limit int) *streamResampler {
	s := &streamResampler{limit: limit}
	if fromRate != SampleRate {
		s.k = getKernel(fromRate, SampleRate)
	}
	s.out = make([]int16, 0, min(expectOut, limit))
	return s
}

// write consumes the next input samples.
func (s *streamResampler) write(x []float32) {
	if s.over {
		return
	}
	if s.k == nil {
		for _, v := range x {
			if len(s.out) >= s.limit {
				s.over = true
				return
			}
			s.out = append(s.out, quantize(v))
		}
		return
	}
	s.win = append(s.win, x...)
	s.emit(false)
	// Drop input that no later output needs.
	lo := s.next*s.k.m/s.k.l - int64(s.k.half)
	if drop := lo - s.winStart; drop > 0 && int(drop) >= len(s.win)/2 {
		drop = min(drop, int64(len(s.win)))
		n := copy(s.win, s.win[drop:])
		s.win = s.win[:n]
		s.winStart += drop
	}
}

// finish emits the remaining outputs once the input has ended.
func (s *streamResampler) finish() []int16 {
	if s.k != nil && !s.over {
		s.emit(true)
	}
	return s.out
}

func (s *streamResampler) emit(final bool) {
	k := s.k
	end := s.winStart + int64(len(s.win))
	total := k.outputs(end)
	for s.next < total {
		if !final && s.next*k.m/k.l-int64(k.half)+int64(k.taps) > end {
			return // needs input not seen yet
		}
		if len(s.out) >= s.limit {
			s.over = true
			return
		}
		s.out = append(s.out, quantize(sampleAt(k, s.next, s.win, s.winStart)))
		s.next++
	}
}
