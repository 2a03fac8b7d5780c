package load

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

// sampleRate is the rate of the prompt and of the caller's audio.
const sampleRate = 8000

// Audio the harness generates.
const (
	promptToneHz     = 440
	promptAmplitude  = 8000 // about −12 dBFS: clearly not silence, no clipping
	callerToneHz     = 300
	callerAmplitude  = 2000
	callerAudioSecs  = 1 // looped by SIPp's rtp_stream
	wavHeaderBytes   = 44
	wavBitsPerSample = 16
)

// tone returns n samples of a sine at freq Hz.
func tone(freq float64, n int, amplitude float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amplitude * math.Sin(2*math.Pi*freq*float64(i)/sampleRate)))
	}
	return out
}

// promptWAV returns a 16-bit mono 8 kHz WAV file of a tone lasting d (to
// the nearest 20 ms frame).
func promptWAV(d time.Duration) []byte {
	frames := max(int(d.Round(20*time.Millisecond)/(20*time.Millisecond)), 1)
	return encodeWAV(tone(promptToneHz, frames*sampleRate/50, promptAmplitude))
}

// encodeWAV writes samples as a canonical PCM WAV file (RIFF, fmt, data).
func encodeWAV(samples []int16) []byte {
	data := len(samples) * 2
	b := make([]byte, wavHeaderBytes+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)  // mono
	binary.LittleEndian.PutUint32(b[24:], sampleRate)
	binary.LittleEndian.PutUint32(b[28:], sampleRate*2) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)            // block align
	binary.LittleEndian.PutUint16(b[34:], wavBitsPerSample)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[wavHeaderBytes+2*i:], uint16(s))
	}
	return b
}

// callerAudio is raw µ-law (no header) that SIPp's rtp_stream loops for the
// caller's side of every call.
func callerAudio() []byte {
	pcm := tone(callerToneHz, callerAudioSecs*sampleRate, callerAmplitude)
	out := make([]byte, len(pcm))
	g711.EncodeUlawFrame(out, pcm)
	return out
}
