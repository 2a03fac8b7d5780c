// Package g722 implements ITU-T Recommendation G.722, "7 kHz audio-coding
// within 64 kbit/s": sub-band ADPCM of 16 kHz audio, as used by the G722
// RTP payload format (RFC 3551 §4.5.2), plus adapters for an engine that
// works at 8 kHz.
//
// # Algorithm
//
// The transmit quadrature mirror filter (24 taps) splits the 16 kHz input
// into a lower (0-4 kHz) and a higher (4-8 kHz) sub-band, each sampled at
// 8 kHz. The lower sub-band is coded by 6-bit ADPCM whose adaptation loop
// uses only the 4 most significant bits (the embedded structure that lets
// the 56 and 48 kbit/s modes drop bits), the higher sub-band by 2-bit
// ADPCM. Each band has a quantizer with a backward-adapted logarithmic
// scale factor and an adaptive predictor with two poles and six zeros
// (the Recommendation's blocks QUANTL/QUANTH, INVQAL/INVQBL/INVQAH,
// LOGSCL/LOGSCH, SCALEL/SCALEH and block 4: RECONS, PARREC, UPPOL1,
// UPPOL2, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC). The decoder runs the same
// adaptation from the received codes and the receive QMF interpolates the
// two bands back to 16 kHz.
//
// The arithmetic is the Recommendation's fixed-point arithmetic, with its
// truncations and saturations. It was checked bit for bit against the
// digital test sequences of G.722 Appendix II (configurations 1 and 2,
// mode 1) and against the G.191 Software Tool Library's reference speech
// files (encoder with QMF, and mode-1 decoder with QMF). Those files are
// not distributed with this package; set G722_ITU_VECTORS to a directory
// holding them to rerun that check (see itu_test.go).
//
// # Samples and octets
//
// Samples are 16-bit linear PCM at 16 kHz. (The Recommendation specifies
// 14-bit uniform PCM; as in the G.191 reference implementation the 16-bit
// samples are used as they are, the sub-band signals being kept at half the
// 16-bit scale, so the two low bits of the input are not discarded.) Each
// octet codes two samples: bits 7-6 are the higher sub-band code I_H and
// bits 5-0 the lower sub-band code I_L, the most significant bit being the
// first transmitted, as RFC 3551 requires.
//
// # Modes
//
// Only mode 1, 64 kbit/s with all six lower sub-band bits carrying audio,
// is implemented. The encoder's output is valid for decoders in any mode.
// Streams of modes 2 and 3 (56 and 48 kbit/s, carrying 8 or 16 kbit/s of
// auxiliary data in the one or two least significant bits) are not
// decoded as such: a mode-1 decoder treats the data bits as audio, which
// adds noise to the lower sub-band but keeps encoder and decoder in step,
// since their adaptation uses only the four most significant bits.
//
// # RTP
//
// G.722 is static payload type 9. Although it samples at 16 kHz, its RTP
// clock rate is 8000 Hz (RFC 3551 §4.5.2: the value was assigned in error
// in RFC 1890 and kept for compatibility), i.e. one timestamp unit per
// octet: "a=rtpmap:9 G722/8000". A 20 ms packet is 160 octets, 320 samples
// at 16 kHz, and advances the timestamp by 160, the same as a 20 ms G.711
// packet.
//
// # Narrowband adapters
//
// NarrowEncoder and NarrowDecoder connect G.722 to audio sampled at 8 kHz:
// 160 samples in, 160 octets out and back per 20 ms. They interpolate to
// and decimate from 16 kHz with a 47-tap half-band FIR (equiripple, flat to
// ±0.006 dB up to 3.4 kHz, about 62 dB of stopband attenuation from
// 4.6 kHz), in integer arithmetic, keeping its history from call to call
// so that consecutive frames join without clicks. Audio above 4 kHz in a
// received wideband stream is filtered out, not aliased.
//
// # Delay
//
// The codec's algorithmic delay is that of its two QMFs: decoded sample
// n+Delay (22, 1.375 ms at 16 kHz) reproduces input sample n. The ADPCM
// adds none. Through NarrowEncoder and NarrowDecoder the delay is
// NarrowDelay, 34 samples at 8 kHz (4.25 ms): 24 and 22 samples at 16 kHz
// for the interpolator and decimator, 22 for the codec.
//
// # Use
//
// Encoder, Decoder, NarrowEncoder and NarrowDecoder each hold the state of
// one direction of one stream. Their zero values are ready to use (the
// New functions are provided for convenience), Reset returns them to that
// state, and they must not be used by several goroutines at once. Encode
// and Decode never allocate.
package g722
