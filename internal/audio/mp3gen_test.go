package audio

// Test-only MP3 generator. Layer III is a transform codec, so without an
// encoder the honest way to get a known tone into an MP3 is to write the
// spectrum directly: every granule carries one quantised MDCT line of
// magnitude 1 (coded in the count1 region with Huffman table B) with the
// sign alternating from granule to granule. Decoded, that is a steady sine
// at (line+1)*rate/1152 Hz (constant signs would give line*rate/1152 with
// some modulation). It exercises go-mp3's Huffman decoding, requantisation,
// IMDCT and synthesis filterbank, then our mixdown and resampler.

// bitWriter writes MSB-first bit fields.
type bitWriter struct {
	buf  []byte
	nbit int
}

func (w *bitWriter) write(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.nbit%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>uint(i)&1 != 0 {
			w.buf[len(w.buf)-1] |= 0x80 >> uint(w.nbit%8)
		}
		w.nbit++
	}
}

type mp3Spec struct {
	mpeg1  bool // MPEG-1 (1152 samples a frame); else MPEG-2 LSF (576)
	rate   int  // 44100, 48000, 32000 (MPEG-1) or half that (MPEG-2)
	kbps   int  // must be in the version's bitrate table
	stereo bool // the right channel is silent
	line   int  // spectral line, 0..575; 18*sb+8 or +9 avoids the alias butterflies
	gain   int  // global_gain; +4 doubles the level
	frames int
}

// toneFreq is the frequency the generated stream decodes to.
func (s mp3Spec) toneFreq() float64 { return float64(s.line+1) * float64(s.rate) / 1152 }

// samples is the number of samples per channel in the stream.
func (s mp3Spec) samples() int {
	if s.mpeg1 {
		return s.frames * 1152
	}
	return s.frames * 576
}

func (s mp3Spec) encode() []byte {
	lsf := 1
	if s.mpeg1 {
		lsf = 0
	}
	base := s.rate << uint(lsf)
	rateIdx := map[int]uint32{44100: 0, 48000: 1, 32000: 2}[base]
	table := mp3Bitrates[lsf]
	brIdx := uint32(0)
	for i, v := range table {
		if v == s.kbps {
			brIdx = uint32(i)
		}
	}
	frameSize := (144 >> uint(lsf)) * s.kbps * 1000 / s.rate
	nch := 1
	mode := uint32(3) // single channel
	if s.stereo {
		nch, mode = 2, 0
	}
	granules := 2 - lsf
	q := s.line / 4
	bits := 4*q + 4 + 1 // zero quadruples, the one holding the line, its sign bit
	var out []byte
	gran := 0
	for f := 0; f < s.frames; f++ {
		w := &bitWriter{}
		w.write(0x7FF, 11) // sync
		if s.mpeg1 {
			w.write(3, 2)
		} else {
			w.write(2, 2)
		}
		w.write(1, 2) // Layer III
		w.write(1, 1) // no CRC
		w.write(brIdx, 4)
		w.write(rateIdx, 2)
		w.write(0, 1) // padding
		w.write(0, 1) // private
		w.write(mode, 2)
		w.write(0, 2) // mode extension
		w.write(0, 4) // copyright, original, emphasis
		// Side info.
		if s.mpeg1 {
			w.write(0, 9) // main_data_begin: no bit reservoir
			w.write(0, map[int]int{1: 5, 2: 3}[nch])
			w.write(0, 4*nch) // scfsi
		} else {
			w.write(0, 8)
			w.write(0, nch)
		}
		for gr := 0; gr < granules; gr++ {
			for ch := 0; ch < nch; ch++ {
				if ch == 0 {
					w.write(uint32(bits), 12) // part2_3_length
				} else {
					w.write(0, 12)
				}
				w.write(0, 9)              // big_values
				w.write(uint32(s.gain), 8) // global_gain
				if s.mpeg1 {
					w.write(0, 4) // scalefac_compress: no scalefactor bits
				} else {
					w.write(0, 9)
				}
				w.write(0, 1)  // window_switching_flag: long blocks
				w.write(0, 15) // table_select x3
				w.write(0, 4)  // region0_count
				w.write(0, 3)  // region1_count
				if s.mpeg1 {
					w.write(0, 1) // preflag
				}
				w.write(0, 1) // scalefac_scale
				w.write(1, 1) // count1table_select: table B
			}
		}
		// Main data: only channel 0 has any.
		for gr := 0; gr < granules; gr++ {
			for i := 0; i < q; i++ {
				w.write(0xF, 4) // table B codes are the complement of vwxy
			}
			w.write(^uint32(8>>uint(s.line%4))&0xF, 4)
			w.write(uint32(gran%2), 1) // sign alternates by granule
			gran++
		}
		for len(w.buf) < frameSize {
			w.buf = append(w.buf, 0)
		}
		out = append(out, w.buf...)
	}
	return out
}

// id3v2 returns a minimal ID3v2.3 tag holding a title frame.
func id3v2(title string) []byte {
	frame := append([]byte("TIT2"), 0, 0, 0, byte(len(title)+1), 0, 0, 0)
	frame = append(frame, title...)
	n := len(frame)
	h := []byte{'I', 'D', '3', 3, 0, 0, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
	return append(h, frame...)
}
