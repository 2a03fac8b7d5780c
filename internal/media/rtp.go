package media

import (
	"encoding/binary"
	"errors"
)

// RTP fixed header (RFC 3550 §5.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|V=2|P|X|  CC   |M|     PT      |       sequence number         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           timestamp                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           synchronization source (SSRC) identifier            |
//	+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//	|            contributing source (CSRC) identifiers             |
//	|                             ....                              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const rtpHeaderLen = 12

// maxPacketSize bounds datagrams we read; anything larger is truncated by
// the kernel and then rejected as malformed.
const maxPacketSize = 1500

// Parse errors are preallocated so the receive path never allocates.
var (
	errRTPShort     = errors.New("rtp: packet too short")
	errRTPVersion   = errors.New("rtp: version is not 2")
	errRTPExtension = errors.New("rtp: truncated header extension")
	errRTPPadding   = errors.New("rtp: invalid padding")
)

// rtpHeader holds the fields of an RTP header the engine uses.
type rtpHeader struct {
	marker      bool
	payloadType uint8
	seq         uint16
	timestamp   uint32
	ssrc        uint32
}

// parseRTP validates an RTP packet and returns its header and payload. The
// CSRC list and header extension (RFC 3550 §5.3.1) are skipped and padding
// (RFC 3550 §5.1, P bit) is removed. The payload aliases pkt.
func parseRTP(pkt []byte) (h rtpHeader, payload []byte, err error) {
	if len(pkt) < rtpHeaderLen {
		return h, nil, errRTPShort
	}
	if pkt[0]>>6 != 2 {
		return h, nil, errRTPVersion
	}
	hasPadding := pkt[0]&0x20 != 0
	hasExtension := pkt[0]&0x10 != 0
	n := rtpHeaderLen + 4*int(pkt[0]&0x0F)
	if len(pkt) < n {
		return h, nil, errRTPShort
	}
	if hasExtension {
		if len(pkt) < n+4 {
			return h, nil, errRTPExtension
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
		if len(pkt) < n {
			return h, nil, errRTPExtension
		}
	}
	end := len(pkt)
	if hasPadding {
		pad := int(pkt[end-1])
		if pad == 0 || pad > end-n {
			return h, nil, errRTPPadding
		}
		end -= pad
	}
	h.marker = pkt[1]&0x80 != 0
	h.payloadType = pkt[1] & 0x7F
	h.seq = binary.BigEndian.Uint16(pkt[2:])
	h.timestamp = binary.BigEndian.Uint32(pkt[4:])
	h.ssrc = binary.BigEndian.Uint32(pkt[8:])
	return h, pkt[n:end], nil
}

// putRTPHeader writes a 12-byte header without CSRCs or extension into b.
func putRTPHeader(b []byte, h rtpHeader) {
	_ = b[rtpHeaderLen-1]
	b[0] = 2 << 6
	b[1] = h.payloadType & 0x7F
	if h.marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], h.seq)
	binary.BigEndian.PutUint32(b[4:], h.timestamp)
	binary.BigEndian.PutUint32(b[8:], h.ssrc)
}
