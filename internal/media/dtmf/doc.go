// Package dtmf detects and generates in-band DTMF (dual-tone multi-frequency)
// signals in 16-bit linear PCM at 8000 Hz, for peers that do not negotiate
// RFC 4733 telephone-events.
//
// # Signals
//
// A digit is the sum of one low-group ("row") and one high-group
// ("column") tone (ITU-T Q.23):
//
//	         1209 Hz 1336 Hz 1477 Hz 1633 Hz
//	697 Hz      1       2       3       A
//	770 Hz      4       5       6       B
//	852 Hz      7       8       9       C
//	941 Hz      *       0       #       D
//
// Levels are in dBm0; 0 dBm0 is taken as a sine 3.17 dB below a full-scale
// sine (ITU-T G.711 puts the µ-law overload point at +3.17 dBm0), so 0 dBm0
// is a peak amplitude of about 22750.
//
// # Detector
//
// Detector follows the receiver limits that ITU-T Q.24 (Table 1) lists
// for the administrations and that are common practice: tones of 40 ms or
// more are accepted, shorter than 23 ms rejected; frequency deviations within ±1.5% accepted,
// beyond ±3.5% rejected; a normal twist (low group louder) up to 8 dB and a
// reverse twist (high group louder) up to 4 dB accepted; pauses of 40 ms or
// more separate digits, while dropouts under 10 ms do not split one.
//
// Audio is analysed in windows of 106 samples (13.25 ms) every 40 samples
// (5 ms), so a 20 ms frame yields four windows. 106 samples puts the
// Goertzel bins about one bin width (75.5 Hz) apart for the low group, whose
// frequencies are 73-89 Hz apart, which makes adjacent rows nearly
// orthogonal. A window is a "hit" for a digit when all of these hold:
//
//   - the eight Goertzel filters pick one row and one column, and no other
//     filter of either group is within 8 dB of the winner;
//   - the frequency of each tone, measured from the phase advance between
//     two Hann-windowed DFTs of the window 42 samples apart, is within
//     ±2.5% of nominal (halfway between the accept and reject limits, which
//     a 106-sample filter alone cannot resolve for the low group);
//   - each tone is at least -30 dBm0;
//   - the twist is at most 9 dB normal and 5 dB reverse;
//   - the two tones, measured in each sub-window, carry at least 75% of
//     the window's power (signal to other energy; this also rejects
//     windows only partly filled by a tone);
//   - each tone's second harmonic is at least 15 dB below it, where that
//     harmonic is not next to the other tone, and the high tone is not
//     the octave of the low one (rejects voiced speech and instruments,
//     whose partials are harmonic).
//
// A digit is recognised after five consecutive hits (the tone then spans
// at least 106+4·40 samples, about 33 ms), which accepts every 40 ms tone
// whatever its alignment with the windows and rejects every tone shorter
// than about 25 ms (measured: all tones of 34 ms or more are accepted,
// none of 26 ms or less). It ends after eight consecutive windows without
// it: at least nine windows miss during a 40 ms pause, at most five during
// a 10 ms dropout (seven for 20 ms, one lost packet).
//
// Speech and music are rejected by these tests together and by the
// duration requirement: no digit in about five minutes of espeak-ng speech
// (a handful of isolated hit windows), nor in synthetic chords, melodies
// and sweeps. Two pure sines that stay within tolerance of a DTMF pair for
// 33 ms are a valid DTMF signal and are reported, whatever produced them.
//
// Process never allocates. A Detector costs about 1 KiB; its zero value is
// ready to use.
//
// # Generator
//
// Generate, GenerateLevels and GenerateSequence return PCM; Tone produces a
// digit incrementally without allocating, for mixing into a live stream.
// The default levels are -9 dBm0 for the low group and -7 dBm0 for the
// high group: the 2 dB pre-emphasis of the high group that telephone sets
// apply to compensate the line's high-frequency loss. Tones start and end
// with a 2 ms raised-cosine ramp to limit splatter.
package dtmf
