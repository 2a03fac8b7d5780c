package dtmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestExploreMusic(t *testing.T) {
	rng := rand.New(rand.NewPCG(99, 16))
	semitone := math.Pow(2, 1.0/12)
	bad := 0
	for i := range 6000 {
		root := 110 * math.Pow(semitone, float64(rng.IntN(48)))
		steps := [][]int{{0, 4, 7}, {0, 3, 7}, {0, 4, 7, 10}, {0, 5, 9}, {0, 7}, {0, 12}}[rng.IntN(6)]
		n := ms(150 + rng.Float64()*400)
		x := make([]float64, n)
		h := 3 + rng.IntN(6)
		roll := 0.5 + rng.Float64()*1.5
		vib := rng.Float64() * 0.006
		for _, st := range steps {
			mix(x, note(root*math.Pow(semitone, float64(st)), h, roll, vib, n, 1))
		}
		if got := digits(t, toPCM(x)); got != "" {
			bad++
			fmt.Printf("%d: root %.1f steps %v harmonics %d roll %.2f vib %.4f -> %q\n", i, root, steps, h, roll, vib, got)
		}
	}
	for i := range 3000 {
		f := 220 * math.Pow(semitone, float64(rng.IntN(36))) * (1 + (rng.Float64()-0.5)*0.06)
		h := 2 + rng.IntN(6)
		roll := 0.3 + rng.Float64()*2
		if got := digits(t, toPCM(note(f, h, roll, 0.004, ms(80+rng.Float64()*200), 1))); got != "" {
			bad++
			fmt.Printf("melody %d: f %.1f h %d roll %.2f -> %q\n", i, f, h, roll, got)
		}
	}
	fmt.Println("bad", bad)
}
