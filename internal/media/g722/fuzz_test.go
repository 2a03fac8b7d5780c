package g722

import "testing"

// checkBand asserts the invariants the Recommendation's limits impose on
// a sub-band's adaptive state, whatever the input.
func checkBand(t *testing.T, name string, b *band, logMax int32) {
	t.Helper()
	ok := b.logStep >= 0 && b.logStep <= logMax &&
		b.a2 >= -12288 && b.a2 <= 12288 &&
		b.a1 >= -(15360-b.a2) && b.a1 <= 15360-b.a2 &&
		b.r1 >= -32768 && b.r1 <= 32767 && b.est >= -32768 && b.est <= 32767
	for _, c := range b.b {
		ok = ok && c >= -32768 && c <= 32767
	}
	if !ok {
		t.Fatalf("%s sub-band state out of range: %+v", name, *b)
	}
}

// Any byte sequence decodes without panicking, to the documented number
// of samples, with the decoder state inside the Recommendation's limits
// and the same result whether decoded at once or byte by byte; the
// narrowband decoder likewise.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x00, 0x01, 0x02, 0x03})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x04, 0x20, 0x04, 0x20, 0x04, 0x20, 0x04, 0x20, 0x04, 0x20})
	seed := make([]byte, 160)
	NewEncoder().Encode(seed, tone(320, 16000, []float64{1000, 6000}, []float64{20000, 8000}))
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder()
		out := make([]int16, 2*len(data)+1)
		if n := d.Decode(out, data); n != 2*len(data) {
			t.Fatalf("Decode returned %d for %d bytes", n, len(data))
		}
		if out[len(out)-1] != 0 {
			t.Fatal("Decode wrote past the samples it reported")
		}
		checkBand(t, "lower", &d.low, lowLogMax)
		checkBand(t, "higher", &d.high, highLogMax)

		d2 := NewDecoder()
		var pair [2]int16
		for i, c := range data {
			d2.Decode(pair[:], []byte{c})
			if pair[0] != out[2*i] || pair[1] != out[2*i+1] {
				t.Fatalf("byte %d decodes differently on its own", i)
			}
		}

		nd := NewNarrowDecoder()
		nout := make([]int16, len(data))
		if n := nd.Decode(nout, data); n != len(data) {
			t.Fatalf("NarrowDecoder returned %d for %d bytes", n, len(data))
		}
	})
}

// Any 16-bit input encodes without panicking, keeps the encoder state
// inside its limits and is decoded by a decoder that tracks the encoder.
func FuzzEncode(f *testing.F) {
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 0xff, 0x7f, 0x00, 0x80})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Fuzz(func(t *testing.T, raw []byte) {
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		e, d := NewEncoder(), NewDecoder()
		code := make([]byte, len(pcm)/2)
		if n := e.Encode(code, pcm); n != len(pcm)/2 {
			t.Fatalf("Encode returned %d for %d samples", n, len(pcm))
		}
		d.Decode(make([]int16, 2*len(code)), code)
		checkBand(t, "lower", &e.low, lowLogMax)
		checkBand(t, "higher", &e.high, highLogMax)
		if e.low != d.low || e.high != d.high {
			t.Fatal("decoder state does not track the encoder")
		}
		ne := NewNarrowEncoder()
		if n := ne.Encode(make([]byte, len(pcm)), pcm); n != len(pcm) {
			t.Fatalf("NarrowEncoder returned %d for %d samples", n, len(pcm))
		}
	})
}
