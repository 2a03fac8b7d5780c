package load

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// udpPacket is an IPv4/UDP datagram as captured (slices into the capture
// buffer: valid until the next packet).
type udpPacket struct {
	srcPort, dstPort uint16
	payload          []byte
}

// parseIPv4UDP parses an IPv4 packet (starting at the IP header, as an
// AF_PACKET SOCK_DGRAM socket delivers it) carrying UDP. ok is false for
// anything else, fragments included. It does not allocate. The payload is
// cut to what was captured when the snap length truncated it.
func parseIPv4UDP(b []byte) (p udpPacket, ok bool) {
	if len(b) < 20 || b[0]>>4 != 4 || b[9] != 17 {
		return p, false
	}
	if binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 { // more fragments or an offset
		return p, false
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || len(b) < ihl+8 {
		return p, false
	}
	total := int(binary.BigEndian.Uint16(b[2:4]))
	u := b[ihl:]
	p.srcPort = binary.BigEndian.Uint16(u[0:2])
	p.dstPort = binary.BigEndian.Uint16(u[2:4])
	end := len(b)
	if total >= ihl+8 && total < end {
		end = total
	}
	p.payload = b[ihl+8 : end]
	return p, true
}

// rtpHeader is the part of an RTP header the capture uses.
type rtpHeader struct {
	payloadType uint8
	seq         uint16
	timestamp   uint32
	ssrc        uint32
	payload     []byte
}

// parseRTP parses an RTP packet (RFC 3550 §5.1) without allocating; ok is
// false for anything that is not RTP version 2 or is RTCP (types 72-76
// once the marker bit is masked: RTCP sent to the RTP port).
func parseRTP(b []byte) (h rtpHeader, ok bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return h, false
	}
	h.payloadType = b[1] & 0x7f
	if h.payloadType >= 72 && h.payloadType <= 76 {
		return h, false
	}
	h.seq = binary.BigEndian.Uint16(b[2:4])
	h.timestamp = binary.BigEndian.Uint32(b[4:8])
	h.ssrc = binary.BigEndian.Uint32(b[8:12])
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // header extension
		if len(b) < off+4 {
			return h, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:off+4]))
	}
	if len(b) < off {
		return h, false
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > off { // padding: the last byte counts it
		if pad := int(b[end-1]); pad <= end-off {
			end -= pad
		}
	}
	h.payload = b[off:end]
	return h, true
}

// sipSummary is what the capture needs of a SIP message.
type sipSummary struct {
	method     string // requests: INVITE, ACK, BYE, CANCEL, ...; "" for responses
	status     int    // responses: 100..699; 0 for requests
	callID     []byte // slices into the packet
	cseqMethod []byte
	mediaPort  int // the SDP m=audio port, 0 when there is no SDP
}

// parseSIP parses the start line, Call-ID, CSeq and the SDP's m=audio port
// of a SIP message over UDP. ok is false when it is not SIP (or lacks a
// Call-ID or CSeq).
func parseSIP(b []byte) (m sipSummary, ok bool) {
	line, rest, found := bytes.Cut(b, []byte("\r\n"))
	if !found {
		return m, false
	}
	if st, isResp := bytes.CutPrefix(line, []byte("SIP/2.0 ")); isResp {
		if len(st) < 3 {
			return m, false
		}
		code, err := strconv.Atoi(string(st[:3]))
		if err != nil || code < 100 || code > 699 {
			return m, false
		}
		m.status = code
	} else {
		method, _, sp := bytes.Cut(line, []byte(" "))
		if !sp || !bytes.HasSuffix(line, []byte(" SIP/2.0")) || len(method) == 0 {
			return m, false
		}
		m.method = sipMethodName(method)
	}
	head, body, _ := bytes.Cut(rest, []byte("\r\n\r\n"))
	for len(head) > 0 {
		var h []byte
		h, head, _ = bytes.Cut(head, []byte("\r\n"))
		name, value, colon := bytes.Cut(h, []byte(":"))
		if !colon {
			continue
		}
		name = bytes.TrimSpace(name)
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Call-ID")) || bytes.EqualFold(name, []byte("i")):
			m.callID = value
		case bytes.EqualFold(name, []byte("CSeq")):
			if _, meth, sp := bytes.Cut(value, []byte(" ")); sp {
				m.cseqMethod = bytes.TrimSpace(meth)
			}
		}
	}
	if len(m.callID) == 0 || len(m.cseqMethod) == 0 {
		return m, false
	}
	if i := bytes.Index(body, []byte("m=audio ")); i >= 0 {
		f := body[i+len("m=audio "):]
		n := 0
		for _, c := range f {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
			if n > 65535 {
				n = 0
				break
			}
		}
		m.mediaPort = n
	}
	return m, true
}

// sipMethodName returns a constant string for the common methods, so that
// parsing them does not allocate.
func sipMethodName(b []byte) string {
	for _, m := range [...]string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE", "REFER", "NOTIFY", "PRACK"} {
		if string(b) == m {
			return m
		}
	}
	return string(b)
}
