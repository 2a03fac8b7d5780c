package dtmf

import "math"

// SampleRate is the only sample rate the package works at, in Hz.
const SampleRate = 8000

// Keypad lists the digits in row-major order of the DTMF matrix (ITU-T
// Q.23): index 4·row+column.
const Keypad = "123A456B789C*0#D"

// Nominal frequencies in Hz: rows (low group), then columns (high group).
var freqs = [8]float64{697, 770, 852, 941, 1209, 1336, 1477, 1633}

// refAmplitude is the peak amplitude of a 0 dBm0 sine in 16-bit linear PCM:
// 3.17 dB below full scale (the G.711 µ-law overload point).
const refAmplitude = 22753

// Analysis geometry; see the package documentation.
const (
	winLen = 106             // Goertzel window, samples
	hop    = 40              // window advance, samples (5 ms)
	subLen = 64              // Hann sub-window for frequency estimation
	subHop = winLen - subLen // 42: second sub-window offset
)

// tab holds the precomputed filter tables.
var tab = newTables()

type tables struct {
	coef [8]float32 // Goertzel 2·cos(ω)
	// subCos[s][f][m] = w[m]·cos(ω_f·n) and subSin = -w[m]·sin(ω_f·n),
	// n = s·subHop+m, w the periodic Hann window of subLen samples: the
	// real and imaginary parts of a windowed DFT at the nominal frequency
	// with its phase referred to the start of the analysis window.
	subCos, subSin [2][8][subLen]float32
	hann           [winLen]float32 // Hann window for the harmonic test
}

func newTables() *tables {
	t := new(tables)
	for f, hz := range freqs {
		w := 2 * math.Pi * hz / SampleRate
		t.coef[f] = float32(2 * math.Cos(w))
		for s := range 2 {
			for m := range subLen {
				win := 0.5 - 0.5*math.Cos(2*math.Pi*float64(m)/subLen)
				n := float64(s*subHop + m)
				t.subCos[s][f][m] = float32(win * math.Cos(w*n))
				t.subSin[s][f][m] = float32(-win * math.Sin(w*n))
			}
		}
	}
	for i := range winLen {
		t.hann[i] = float32(0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/winLen))
	}
	return t
}

// position returns the row (0-3) and column (0-3) of digit; 'a'-'d' are
// accepted for 'A'-'D'.
func position(digit byte) (row, col int, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for i := range len(Keypad) {
		if Keypad[i] == digit {
			return i / 4, i % 4, true
		}
	}
	return 0, 0, false
}

// ValidDigit reports whether c is a DTMF digit: '0'-'9', '*', '#', 'A'-'D'
// or 'a'-'d'.
func ValidDigit(c byte) bool {
	_, _, ok := position(c)
	return ok
}

// levelAmplitude converts dBm0 to a sine's peak amplitude.
func levelAmplitude(dBm0 float64) float64 { return refAmplitude * math.Pow(10, dBm0/20) }

// dB converts a decibel figure to a power ratio.
func dB(x float64) float32 { return float32(math.Pow(10, x/10)) }
