package load

import (
	"encoding/binary"
	"testing"
)

func TestParseIPv4UDP(t *testing.T) {
	pkt := ipv4UDP(5060, 40000, []byte("hello"))
	p, ok := parseIPv4UDP(pkt)
	if !ok || p.srcPort != 5060 || p.dstPort != 40000 || string(p.payload) != "hello" {
		t.Fatalf("parseIPv4UDP = %+v, %v", p, ok)
	}
	// Trailing bytes past the IP total length (Ethernet padding) are not payload.
	if p, ok := parseIPv4UDP(append(pkt, 0, 0, 0)); !ok || string(p.payload) != "hello" {
		t.Errorf("padded packet: %q, %v", p.payload, ok)
	}
	// A snap length shorter than the packet: what was captured.
	if p, ok := parseIPv4UDP(pkt[:30]); !ok || string(p.payload) != "he" {
		t.Errorf("truncated packet: %q, %v", p.payload, ok)
	}
	frag := ipv4UDP(1, 2, []byte("x"))
	binary.BigEndian.PutUint16(frag[6:], 0x2000) // more fragments
	tcp := ipv4UDP(1, 2, []byte("x"))
	tcp[9] = 6
	v6 := ipv4UDP(1, 2, []byte("x"))
	v6[0] = 0x60
	for name, b := range map[string][]byte{"fragment": frag, "tcp": tcp, "ipv6": v6, "short": pkt[:10]} {
		if _, ok := parseIPv4UDP(b); ok {
			t.Errorf("%s: parsed as IPv4 UDP", name)
		}
	}
	if n := testing.AllocsPerRun(100, func() { parseIPv4UDP(pkt) }); n != 0 {
		t.Errorf("parseIPv4UDP allocates %v times", n)
	}
}

func TestParseRTP(t *testing.T) {
	b := rtpPacket(0, 7, 1600, voicedFill)
	h, ok := parseRTP(b)
	if !ok || h.payloadType != 0 || h.seq != 7 || h.timestamp != 1600 || h.ssrc != 0x1234 || len(h.payload) != 160 {
		t.Fatalf("parseRTP = %+v, %v", h, ok)
	}
	// Marker bit, one CSRC, an extension of one word and 4 bytes of padding.
	x := []byte{0xb1, 0x80 | 8, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 1, 2, 3, 4, 0xbe, 0xde, 0, 1, 9, 9, 9, 9, 0xd5, 0xd5, 0, 0, 0, 4}
	h, ok = parseRTP(x)
	if !ok || h.payloadType != 8 || len(h.payload) != 2 || h.payload[0] != 0xd5 {
		t.Errorf("extended packet: %+v, %v", h, ok)
	}
	rtcp := rtpPacket(200, 0, 0, 0) // RTCP sender report to the RTP port
	if _, ok := parseRTP(rtcp); ok {
		t.Error("RTCP parsed as RTP")
	}
	if _, ok := parseRTP([]byte{0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); ok {
		t.Error("version 1 parsed as RTP")
	}
	if n := testing.AllocsPerRun(100, func() { parseRTP(b) }); n != 0 {
		t.Errorf("parseRTP allocates %v times", n)
	}
}

func TestParseSIP(t *testing.T) {
	m, ok := parseSIP(sipRequest("INVITE", "2-123@127.0.0.1", 1, "INVITE"))
	if !ok || m.method != "INVITE" || m.status != 0 || string(m.callID) != "2-123@127.0.0.1" || string(m.cseqMethod) != "INVITE" || m.mediaPort != 0 {
		t.Errorf("INVITE: %+v, %v", m, ok)
	}
	m, ok = parseSIP(sipResponse(200, "abc", "INVITE", 20042)) // compact Call-ID ("i:")
	if !ok || m.status != 200 || string(m.callID) != "abc" || string(m.cseqMethod) != "INVITE" || m.mediaPort != 20042 {
		t.Errorf("200: %+v, %v", m, ok)
	}
	m, ok = parseSIP(sipResponse(503, "abc", "INVITE", 0))
	if !ok || m.status != 503 {
		t.Errorf("503: %+v, %v", m, ok)
	}
	for name, b := range map[string][]byte{
		"rtp":       rtpPacket(0, 1, 1, 0),
		"no callid": []byte("BYE sip:x SIP/2.0\r\nCSeq: 2 BYE\r\n\r\n"),
		"no cseq":   []byte("BYE sip:x SIP/2.0\r\nCall-ID: a\r\n\r\n"),
		"bad code":  []byte("SIP/2.0 99 Odd\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\n\r\n"),
		"http":      []byte("GET / HTTP/1.1\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\n\r\n"),
	} {
		if _, ok := parseSIP(b); ok {
			t.Errorf("%s: parsed as SIP", name)
		}
	}
}
