package g722

// Constants of ITU-T Recommendation G.722. Values are as tabulated in the
// Recommendation; quantizer levels are in units of 2^-9 of the scale factor
// (so a level L applied to a scale factor det contributes (L*det)>>12 in the
// 15-bit sub-band signal domain, the scale factor itself carrying a factor
// of 8).

// qmfCoef are the 24 coefficients h0..h23 of the transmit and receive
// quadrature mirror filters, scaled by 2^13. The filter is symmetric
// (h(i) = h(23-i)) and its coefficients sum to 2^13.
var qmfCoef = [24]int32{
	3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
	3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3,
}

// lowDecision are the decision levels of the 6-bit lower sub-band
// quantizer: interval mL (1..30) spans lowDecision[mL-1] up to
// lowDecision[mL] (the last interval is unbounded).
var lowDecision = [30]int32{
	0, 35, 72, 110, 150, 190, 233, 276, 323, 370,
	422, 473, 530, 587, 650, 714, 786, 858, 940, 1023,
	1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
}

// lowLevel6 are the output levels of the 6-bit inverse quantizer for
// interval mL = 1..30 (index mL-1).
var lowLevel6 = [30]int32{
	17, 54, 91, 130, 170, 211, 254, 300, 347, 396,
	447, 501, 558, 618, 682, 750, 822, 899, 982, 1072,
	1170, 1279, 1399, 1535, 1689, 1873, 2088, 2376, 2738, 3101,
}

// lowLevel4 are the output levels of the 4-bit inverse quantizer used in
// the lower sub-band's feedback loop, by magnitude class 0..7.
var lowLevel4 = [8]int32{0, 150, 323, 530, 786, 1121, 1612, 2557}

// lowLogStep (W_L) is the log scale factor increment of the lower
// sub-band, by magnitude class 0..7 of the 4-bit code.
var lowLogStep = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}

// highDecision is the single decision level of the 2-bit higher sub-band
// quantizer; highLevel are its two output magnitudes.
const highDecision = 564

var highLevel = [2]int32{202, 926}

// highLogStep (W_H) is the log scale factor increment of the higher
// sub-band for the inner (small) and outer (large) quantizer interval.
var highLogStep = [2]int32{-214, 798}

// log2Table (ILB) is 2^(i/32) scaled by 2^11, i = 0..31: the mantissa of
// the inverse logarithm that turns a log scale factor into a scale factor.
var log2Table = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// Limits of the log scale factors (the scale factors then range over
// 32..16384 for the lower and 8..16384 for the higher sub-band).
const (
	lowLogMax  = 18432
	highLogMax = 22528
)

// Lookup tables derived from the code assignment of the Recommendation,
// indexed directly by the transmitted code.
var (
	// lowQ6 is the signed 6-bit inverse quantizer output by 6-bit code I_L.
	lowQ6 [64]int32
	// lowQ4 is the signed 4-bit inverse quantizer output by 4-bit code
	// I_L>>2, and lowClass4 its magnitude class (for W_L).
	lowQ4     [16]int32
	lowClass4 [16]uint8
	// lowCodePos / lowCodeNeg give the 6-bit code for interval mL (1..30)
	// of a non-negative / negative difference signal.
	lowCodePos, lowCodeNeg [31]uint8
	// highQ2 is the signed 2-bit inverse quantizer output by code I_H and
	// highClass its interval (0 inner, 1 outer).
	highQ2    [4]int32
	highClass [4]uint8
)

func init() {
	// Lower sub-band code assignment (G.722 Table 6): for a negative
	// difference, intervals 1 and 2 get codes 63 and 62 and intervals
	// 3..30 get codes 31 down to 4; for a non-negative difference,
	// intervals 1..30 get codes 61 down to 32. Codes 0..3 are never sent;
	// a decoder treats them as the smallest negative level.
	for m := 1; m <= 30; m++ {
		lowCodePos[m] = uint8(62 - m)
		if m <= 2 {
			lowCodeNeg[m] = uint8(64 - m)
		} else {
			lowCodeNeg[m] = uint8(34 - m)
		}
		lowQ6[lowCodePos[m]] = lowLevel6[m-1]
		lowQ6[lowCodeNeg[m]] = -lowLevel6[m-1]
	}
	for c := 0; c < 4; c++ {
		lowQ6[c] = -lowLevel6[0]
	}
	// 4-bit codes (the 6-bit code without its two least significant
	// bits): 1..7 are negative with decreasing magnitude class 7..1,
	// 8..14 positive with class 7..1, and 0 and 15 the zero level.
	for c := 1; c <= 7; c++ {
		lowClass4[c] = uint8(8 - c)
		lowQ4[c] = -lowLevel4[8-c]
		lowClass4[c+7] = uint8(8 - c)
		lowQ4[c+7] = lowLevel4[8-c]
	}
	// Higher sub-band (G.722 Table 5): 0 outer negative, 1 inner negative,
	// 2 outer positive, 3 inner positive.
	highQ2 = [4]int32{-highLevel[1], -highLevel[0], highLevel[1], highLevel[0]}
	highClass = [4]uint8{1, 0, 1, 0}
}
