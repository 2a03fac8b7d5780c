package load

import (
	"encoding/binary"
	"fmt"
)

// ipv4UDP builds an IPv4/UDP packet from 127.0.0.1 to 127.0.0.1.
func ipv4UDP(src, dst uint16, payload []byte) []byte {
	b := make([]byte, 28+len(payload))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:], 0x4000) // don't fragment
	b[8] = 64
	b[9] = 17
	copy(b[12:], []byte{127, 0, 0, 1})
	copy(b[16:], []byte{127, 0, 0, 1})
	binary.BigEndian.PutUint16(b[20:], src)
	binary.BigEndian.PutUint16(b[22:], dst)
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	copy(b[28:], payload)
	return b
}

// rtpPacket builds an RTP packet with a 160-byte payload of one value.
func rtpPacket(pt uint8, seq uint16, ts uint32, fill byte) []byte {
	b := make([]byte, 12+160)
	b[0] = 0x80
	b[1] = pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], 0x1234)
	for i := 12; i < len(b); i++ {
		b[i] = fill
	}
	return b
}

// voicedPayload is µ-law of a loud sample (0x80 decodes to about +32124).
const voicedFill = 0x80

// silentFill is µ-law silence.
const silentFill = 0xff

// sipRequest builds a SIP request of method for callID.
func sipRequest(method, callID string, cseq int, cseqMethod string) []byte {
	return fmt.Appendf(nil, "%s sip:+15550100@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"+
		"Call-ID: %s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n", method, callID, cseq, cseqMethod)
}

// sipResponse builds a SIP response; mediaPort > 0 adds an SDP body.
func sipResponse(status int, callID, cseqMethod string, mediaPort int) []byte {
	body := ""
	if mediaPort > 0 {
		body = fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", mediaPort)
	}
	return fmt.Appendf(nil, "SIP/2.0 %d Whatever\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"+
		"i: %s\r\nCSeq: 1 %s\r\nContent-Length: %d\r\n\r\n%s", status, callID, cseqMethod, len(body), body)
}
