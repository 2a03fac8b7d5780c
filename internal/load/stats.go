package load

import (
	"math"
	"slices"
)

// Dist summarizes a sample of measurements (milliseconds unless a field
// says otherwise). N is 0 when nothing was measured.
type Dist struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Summarize computes the distribution of values; values is not modified.
func Summarize(values []float64) Dist {
	if len(values) == 0 {
		return Dist{}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	return Dist{
		N:    len(s),
		P50:  percentileSorted(s, 50),
		P99:  percentileSorted(s, 99),
		Max:  s[len(s)-1],
		Mean: sum / float64(len(s)),
	}
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// values, or NaN for an empty sample; values is not modified.
func Percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := slices.Clone(values)
	slices.Sort(s)
	return percentileSorted(s, p)
}

// percentileSorted is the nearest-rank percentile of a sorted, non-empty
// sample: the smallest value with at least p% of the sample at or below it.
func percentileSorted(s []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// histogram counts durations in fixed-width bins without allocating per
// value: the capture's per-packet path records RTP inter-arrival times in
// one. Values past the last bin are counted in it; the exact maximum is
// kept aside.
type histogram struct {
	binNS  int64
	counts []uint32
	n      uint64
	maxNS  int64
}

func newHistogram(binNS, maxNS int64) *histogram {
	return &histogram{binNS: binNS, counts: make([]uint32, maxNS/binNS+1)}
}

func (h *histogram) add(ns int64) {
	if ns < 0 {
		ns = 0
	}
	i := ns / h.binNS
	if i >= int64(len(h.counts)) {
		i = int64(len(h.counts)) - 1
	}
	h.counts[i]++
	h.n++
	if ns > h.maxNS {
		h.maxNS = ns
	}
}

// percentileMS is the nearest-rank percentile in milliseconds, to the upper
// edge of its bin (capped at the exact maximum); NaN when empty.
func (h *histogram) percentileMS(p float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			if i == len(h.counts)-1 { // the overflow bin
				return float64(h.maxNS) / 1e6
			}
			upper := min(int64(i+1)*h.binNS, h.maxNS)
			return float64(upper) / 1e6
		}
	}
	return float64(h.maxNS) / 1e6
}

func (h *histogram) maxMS() float64 {
	if h.n == 0 {
		return math.NaN()
	}
	return float64(h.maxNS) / 1e6
}
