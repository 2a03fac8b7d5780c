package media

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/pion/rtp"
)

func TestParseRTP(t *testing.T) {
	pionPacket := func(h rtp.Header, payload []byte, padding byte) []byte {
		h.Version = 2
		p := &rtp.Packet{Header: h, Payload: payload}
		if padding > 0 {
			p.Header.Padding = true
			p.PaddingSize = padding
		}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withExt := rtp.Header{PayloadType: 8, SequenceNumber: 7, Timestamp: 9, SSRC: 11}
	if err := withExt.SetExtension(1, []byte{0xAA, 0xBB}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pkt     []byte
		ok      bool
		h       rtpHeader
		payload []byte
	}{
		{"basic", pionPacket(rtp.Header{Marker: true, PayloadType: 0, SequenceNumber: 65535, Timestamp: 1 << 31, SSRC: 0xDEADBEEF}, []byte{1, 2, 3}, 0),
			true, rtpHeader{marker: true, payloadType: 0, seq: 65535, timestamp: 1 << 31, ssrc: 0xDEADBEEF}, []byte{1, 2, 3}},
		{"CSRCs", pionPacket(rtp.Header{PayloadType: 101, SequenceNumber: 1, CSRC: []uint32{1, 2}}, []byte{9}, 0),
			true, rtpHeader{payloadType: 101, seq: 1}, []byte{9}},
		{"extension", pionPacket(withExt, []byte{5, 6}, 0), true, rtpHeader{payloadType: 8, seq: 7, timestamp: 9, ssrc: 11}, []byte{5, 6}},
		{"padding", pionPacket(rtp.Header{PayloadType: 0}, []byte{1, 2}, 4), true, rtpHeader{}, []byte{1, 2}},
		{"empty payload", pionPacket(rtp.Header{PayloadType: 0}, nil, 0), true, rtpHeader{}, []byte{}},
		{"short", []byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, false, rtpHeader{}, nil},
		{"version 0", make([]byte, 20), false, rtpHeader{}, nil},
		{"version 3", append([]byte{0xC0}, make([]byte, 19)...), false, rtpHeader{}, nil},
		{"truncated CSRC", append([]byte{0x83}, make([]byte, 19)...), false, rtpHeader{}, nil},
		{"truncated extension header", append([]byte{0x90}, make([]byte, 13)...), false, rtpHeader{}, nil},
		{"truncated extension body", append([]byte{0x90}, append(make([]byte, 13), 0, 5, 0, 0)...), false, rtpHeader{}, nil},
		{"zero padding", append([]byte{0xA0}, make([]byte, 15)...), false, rtpHeader{}, nil},
		{"padding beyond payload", append(append([]byte{0xA0}, make([]byte, 11)...), 0, 9), false, rtpHeader{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, payload, err := parseRTP(tt.pkt)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			if h != tt.h || !bytes.Equal(payload, tt.payload) {
				t.Fatalf("got %+v %x, want %+v %x", h, payload, tt.h, tt.payload)
			}
		})
	}
}

func TestPutRTPHeader(t *testing.T) {
	want := rtpHeader{marker: true, payloadType: 101, seq: 4242, timestamp: 0xFFFFFFF0, ssrc: 77}
	b := make([]byte, rtpHeaderLen+2)
	putRTPHeader(b, want)
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if p.Version != 2 || !p.Marker || p.PayloadType != 101 || p.SequenceNumber != 4242 || p.Timestamp != 0xFFFFFFF0 || p.SSRC != 77 {
		t.Fatalf("pion reads %+v", p.Header)
	}
}

func TestPCMRing(t *testing.T) {
	var q pcmRing
	seq := func(from, n int) []int16 {
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(from + i)
		}
		return s
	}
	var frame [FrameSamples]int16
	if q.read(frame[:]) {
		t.Fatal("read from empty ring")
	}
	// Odd packet sizes accumulate into whole frames.
	next := 0
	for range 50 {
		if d := q.write(seq(next, 100)); d != 0 {
			t.Fatalf("dropped %d", d)
		}
		next += 100
		for q.n >= FrameSamples {
			want := next - q.n
			if !q.read(frame[:]) || frame[0] != int16(want) || frame[FrameSamples-1] != int16(want+FrameSamples-1) {
				t.Fatalf("frame starts at %d, want %d", frame[0], want)
			}
		}
	}
	// Overflow keeps the newest rxMaxFill samples.
	q.reset()
	if d := q.write(seq(0, rxMaxFill+FrameSamples)); d != FrameSamples {
		t.Fatalf("dropped %d, want %d", d, FrameSamples)
	}
	if d := q.write(seq(10000, 10)); d != 10 {
		t.Fatalf("dropped %d, want 10", d)
	}
	if !q.read(frame[:]) || frame[0] != FrameSamples+10 {
		t.Fatalf("oldest kept sample %d, want %d", frame[0], FrameSamples+10)
	}
}

// fuzzLeg returns a leg that accepts PCMU (0), PCMA (8) and events (101).
func fuzzLeg(t testing.TB) *Leg {
	l, err := newEngine(t, testConfig()).NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Offer(); err != nil {
		t.Fatal(err)
	}
	if err := l.SetRemoteAnswer(offerSDP(4000, "0 8 101", "a=rtpmap:101 telephone-event/8000")); err != nil {
		t.Fatal(err)
	}
	return l
}

// FuzzRTP checks the parser against pion/rtp and runs the whole receive
// path on arbitrary datagrams.
func FuzzRTP(f *testing.F) {
	f.Add(rtpPacket(0, 1, 160, 7, true, bytes.Repeat([]byte{0xFF}, 160)))
	f.Add(rtpPacket(101, 65535, 8000, 7, false, eventPayload(5, true, 800)))
	f.Add(rtpPacket(8, 2, 320, 8, false, []byte{0xD5, 0xD5}))
	f.Add([]byte{0xB2, 0x80, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0, 1, 3})
	f.Add([]byte{0x80, 0xC8, 0, 6})
	l := fuzzLeg(f)
	defer l.Close()
	from := netip.MustParseAddrPort("127.0.0.1:5004")
	var frame [FrameSamples]int16
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h, payload, err := parseRTP(pkt)
		if err == nil {
			if len(payload) > len(pkt)-rtpHeaderLen {
				t.Fatalf("payload of %d bytes from a %d byte packet", len(payload), len(pkt))
			}
			var p rtp.Packet
			if p.Unmarshal(append([]byte(nil), pkt...)) == nil {
				if p.PayloadType != h.payloadType || p.SequenceNumber != h.seq || p.Timestamp != h.timestamp ||
					p.SSRC != h.ssrc || p.Marker != h.marker || !bytes.Equal(p.Payload, payload) {
					t.Fatalf("pion %+v %x, ours %+v %x", p.Header, p.Payload, h, payload)
				}
			}
		}
		l.handlePacket(pkt, from)
		l.pullFrame(&frame)
	})
}
