package media

import (
	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

// encoding identifies an audio payload format the engine can transcode.
type encoding uint8

const (
	encNone encoding = iota
	encPCMU          // G.711 µ-law, RFC 3551 §4.5.14
	encPCMA          // G.711 A-law, RFC 3551 §4.5.14
)

func (e encoding) String() string {
	switch e {
	case encPCMU:
		return "PCMU"
	case encPCMA:
		return "PCMA"
	}
	return ""
}

// staticPT is the static payload type of e (RFC 3551 §6, Table 4).
func (e encoding) staticPT() uint8 {
	if e == encPCMA {
		return 8
	}
	return 0
}

// encode writes len(src) payload bytes for src into dst.
func (e encoding) encode(dst []byte, src []int16) int {
	if e == encPCMA {
		return g711.EncodeAlawFrame(dst, src)
	}
	return g711.EncodeUlawFrame(dst, src)
}

// decode writes the samples of payload src into dst.
func (e encoding) decode(dst []int16, src []byte) int {
	if e == encPCMA {
		return g711.DecodeAlawFrame(dst, src)
	}
	return g711.DecodeUlawFrame(dst, src)
}

// Codec is the audio codec negotiated for a leg.
type Codec struct {
	// Name is the RTP encoding name, "PCMU" or "PCMA"; empty before
	// negotiation.
	Name string
	// PayloadType is the RTP payload type the leg sends with.
	PayloadType uint8
	// ClockRate is the RTP clock rate in Hz (8000 for G.711).
	ClockRate int
}

// payloadKind classifies a received payload type.
type payloadKind uint8

const (
	kindNone payloadKind = iota // not negotiated: dropped
	kindPCMU
	kindPCMA
	kindEvent // telephone-event, RFC 4733
)

func kindOf(e encoding) payloadKind {
	if e == encPCMA {
		return kindPCMA
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
