package load

import (
	"math"
	"testing"
)

func TestPercentileNearestRank(t *testing.T) {
	v := []float64{15, 20, 35, 40, 50}
	for _, c := range []struct{ p, want float64 }{
		{5, 15}, {30, 20}, {40, 20}, {50, 35}, {99, 50}, {100, 50},
	} {
		if got := Percentile(v, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("percentile of nothing should be NaN")
	}
	if v[0] != 15 || v[4] != 50 {
		t.Error("Percentile modified its input")
	}
}

func TestSummarize(t *testing.T) {
	var v []float64
	for i := 100; i >= 1; i-- { // 1..100, unsorted
		v = append(v, float64(i))
	}
	d := Summarize(v)
	if d.N != 100 || d.P50 != 50 || d.P99 != 99 || d.Max != 100 || d.Mean != 50.5 {
		t.Errorf("Summarize(1..100) = %+v", d)
	}
	if v[0] != 100 {
		t.Error("Summarize modified its input")
	}
	if (Summarize(nil) != Dist{}) {
		t.Error("Summarize(nil) should be the zero Dist")
	}
}

func TestHistogramPercentile(t *testing.T) {
	h := newHistogram(50_000, 2_000_000_000)
	for range 98 {
		h.add(20_000_000) // 20 ms
	}
	h.add(35_000_000)
	h.add(5_000_000_000) // past the last bin: counted there, exact max kept
	if got := h.percentileMS(50); got != 20.05 {
		t.Errorf("p50 = %v ms, want the upper edge of the 20 ms bin (20.05)", got)
	}
	if got := h.percentileMS(99); got != 35.05 {
		t.Errorf("p99 = %v ms, want 35.05", got)
	}
	if got := h.percentileMS(100); got != 5000 {
		t.Errorf("p100 = %v ms, want the exact maximum 5000", got)
	}
	if got := h.maxMS(); got != 5000 {
		t.Errorf("max = %v", got)
	}
	if got := newHistogram(1, 10).percentileMS(50); !math.IsNaN(got) {
		t.Errorf("empty histogram p50 = %v, want NaN", got)
	}
	if n := testing.AllocsPerRun(100, func() { h.add(21_000_000) }); n != 0 {
		t.Errorf("add allocates %v times", n)
	}
}
