package g722

import "testing"

// One 20 ms frame per iteration: 320 samples at 16 kHz or 160 at 8 kHz,
// 160 bytes of G.722.

func BenchmarkEncode20ms(b *testing.B) {
	pcm := tone(320, 16000, []float64{440, 3000}, []float64{8000, 4000})
	dst := make([]byte, 160)
	e := NewEncoder()
	b.ReportAllocs()
	b.SetBytes(2 * 320)
	for b.Loop() {
		e.Encode(dst, pcm)
	}
}

func BenchmarkDecode20ms(b *testing.B) {
	data := make([]byte, 160)
	NewEncoder().Encode(data, tone(320, 16000, []float64{440, 3000}, []float64{8000, 4000}))
	dst := make([]int16, 320)
	d := NewDecoder()
	b.ReportAllocs()
	b.SetBytes(160)
	for b.Loop() {
		d.Decode(dst, data)
	}
}

func BenchmarkNarrowEncode20ms(b *testing.B) {
	pcm := tone(160, 8000, []float64{440, 3000}, []float64{8000, 4000})
	dst := make([]byte, 160)
	e := NewNarrowEncoder()
	b.ReportAllocs()
	b.SetBytes(2 * 160)
	for b.Loop() {
		e.Encode(dst, pcm)
	}
}

func BenchmarkNarrowDecode20ms(b *testing.B) {
	data := make([]byte, 160)
	NewNarrowEncoder().Encode(data, tone(160, 8000, []float64{440, 3000}, []float64{8000, 4000}))
	dst := make([]int16, 160)
	d := NewNarrowDecoder()
	b.ReportAllocs()
	b.SetBytes(160)
	for b.Loop() {
		d.Decode(dst, data)
	}
}
