package media

import (
	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

// G.722 legs are resampled to and from the engine's 8 kHz by the codec's
// narrowband adapters, so a wideband peer talks to the mix like any other
// (the mix itself is narrowband).

// decodeAudio decodes an audio payload of kind into dst (8 kHz samples).
func (rd *readerState) decodeAudio(kind payloadKind, dst []int16, payload []byte) int {
	switch kind {
	case kindPCMA:
		return g711.DecodeAlawFrame(dst, payload)
	case kindG722:
		return rd.g722.Decode(dst, payload)
	}
	return g711.DecodeUlawFrame(dst, payload)
}

// encodeAudio encodes one frame with the negotiated codec into dst.
func (tx *txState) encodeAudio(e encoding, dst []byte, pcm []int16) int {
	if e == encG722 {
		return tx.g722.Encode(dst, pcm)
	}
	return e.encodeG711(dst, pcm)
}

// encoding identifies an audio payload format the engine can transcode.
type encoding uint8

const (
	encNone encoding = iota
	encPCMU          // G.711 µ-law, RFC 3551 §4.5.14
	encPCMA          // G.711 A-law, RFC 3551 §4.5.14
	encG722          // G.722 64 kbit/s, RFC 3551 §4.5.2 (RTP clock 8000, audio 16 kHz)
)

func (e encoding) String() string {
	switch e {
	case encPCMU:
		return "PCMU"
	case encPCMA:
		return "PCMA"
	case encG722:
		return "G722"
	}
	return ""
}

// staticPT is the static payload type of e (RFC 3551 §6, Table 4).
func (e encoding) staticPT() uint8 {
	switch e {
	case encPCMA:
		return 8
	case encG722:
		return 9
	}
	return 0
}

// encodeG711 writes len(src) payload bytes for src into dst.
func (e encoding) encodeG711(dst []byte, src []int16) int {
	if e == encPCMA {
		return g711.EncodeAlawFrame(dst, src)
	}
	return g711.EncodeUlawFrame(dst, src)
}

// Codec is the audio codec negotiated for a leg.
type Codec struct {
	// Name is the RTP encoding name, "PCMU", "PCMA" or "G722"; empty
	// before negotiation.
	Name string
	// PayloadType is the RTP payload type the leg sends with.
	PayloadType uint8
	// ClockRate is the RTP clock rate in Hz (8000 for G.711 and, by RFC
	// 3551's exception, for G.722).
	ClockRate int
}

// payloadKind classifies a received payload type.
type payloadKind uint8

const (
	kindNone payloadKind = iota // not negotiated: dropped
	kindPCMU
	kindPCMA
	kindG722
	kindEvent // telephone-event, RFC 4733
)

func kindOf(e encoding) payloadKind {
	switch e {
	case encPCMA:
		return kindPCMA
	case encG722:
		return kindG722
	}
	return kindPCMU
}

// saturate clamps a mixed sample to the int16 range.
func saturate(v int32) int16 {
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	}
	return int16(v)
}
