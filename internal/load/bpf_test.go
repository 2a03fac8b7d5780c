package load

import (
	"encoding/binary"
	"testing"
)

// runBPF interprets the classic BPF subset filterProgram emits, as the
// kernel would for a packet of pkttype; it returns the snap length (0:
// dropped).
func runBPF(t *testing.T, prog []bpfInsn, pkt []byte, pkttype uint32) uint32 {
	t.Helper()
	var a, x uint32
	load := func(off uint32, size int) (uint32, bool) {
		if int(off)+size > len(pkt) {
			return 0, false
		}
		switch size {
		case 1:
			return uint32(pkt[off]), true
		case 2:
			return uint32(binary.BigEndian.Uint16(pkt[off:])), true
		default:
			return binary.BigEndian.Uint32(pkt[off:]), true
		}
	}
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		var ok = true
		switch in.Code {
		case bpfLD | bpfW | bpfABS:
			if in.K != skfAdPktType {
				a, ok = load(in.K, 4)
			} else {
				a = pkttype
			}
		case bpfLD | bpfH | bpfABS:
			a, ok = load(in.K, 2)
		case bpfLD | bpfB | bpfABS:
			a, ok = load(in.K, 1)
		case bpfLD | bpfH | bpfIND:
			a, ok = load(x+in.K, 2)
		case bpfLDX | bpfB | bpfMSH:
			var v uint32
			v, ok = load(in.K, 1)
			x = 4 * (v & 0xf)
		case bpfALU | bpfAND | bpfK:
			a &= in.K
		case bpfALU | bpfRSH | bpfK:
			a >>= in.K
		case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJSET | bpfK:
			var cond bool
			switch in.Code &^ (bpfJMP | bpfK) {
			case bpfJEQ:
				cond = a == in.K
			case bpfJGT:
				cond = a > in.K
			case bpfJGE:
				cond = a >= in.K
			case bpfJSET:
				cond = a&in.K != 0
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfRET | bpfK:
			return in.K
		default:
			t.Fatalf("instruction %d: opcode %#x not interpreted", pc, in.Code)
		}
		if !ok {
			return 0 // a load past the end drops the packet
		}
	}
	t.Fatal("the program fell off its end")
	return 0
}

func TestFilterProgram(t *testing.T) {
	f := testFilter(1) // every second RTP stream
	prog, err := filterProgram(f)
	if err != nil {
		t.Fatal(err)
	}
	const host = 0
	rtp := rtpPacket(0, 1, 160, voicedFill)
	frag := ipv4UDP(testSIPPort, testSIPpPort, []byte("x"))
	binary.BigEndian.PutUint16(frag[6:], 0x0010) // a fragment offset
	tcp := ipv4UDP(testSIPPort, testSIPpPort, []byte("x"))
	tcp[9] = 6
	options := ipv4UDP(0, 0, rtp) // IHL 6: a 4-byte IP option before UDP
	options = append(options[:20:20], append([]byte{1, 1, 1, 1}, options[20:]...)...)
	options[0] = 0x46
	binary.BigEndian.PutUint16(options[2:], uint16(len(options)))
	binary.BigEndian.PutUint16(options[24:], 20004)
	binary.BigEndian.PutUint16(options[26:], testSIPpMedia)
	for _, c := range []struct {
		name    string
		pkt     []byte
		pkttype uint32
		want    uint32
	}{
		{"SIP from the server", ipv4UDP(testSIPPort, testSIPpPort, sipResponse(100, "c", "INVITE", 0)), host, sipSnapLen},
		{"SIP to the server", ipv4UDP(testSIPpPort, testSIPPort, sipRequest("INVITE", "c", 1, "INVITE")), host, sipSnapLen},
		{"loopback's outgoing copy", ipv4UDP(testSIPpPort, testSIPPort, sipRequest("INVITE", "c", 1, "INVITE")), packetOutgoing, 0},
		{"sampled RTP", ipv4UDP(20004, testSIPpMedia, rtp), host, rtpSnapLen},
		{"sampled RTP after IP options", options, host, rtpSnapLen},
		{"RTP not sampled", ipv4UDP(20006, testSIPpMedia, rtp), host, 0},
		{"odd server port (RTCP)", ipv4UDP(20005, testSIPpMedia, rtp), host, 0},
		{"RTP to the server", ipv4UDP(testSIPpMedia, 20004, rtp), host, 0},
		{"below the media range", ipv4UDP(19998, testSIPpMedia, rtp), host, 0},
		{"above the media range", ipv4UDP(40000, testSIPpMedia, rtp), host, 0},
		{"another SIPp port", ipv4UDP(20004, testSIPpMedia+2, rtp), host, 0},
		{"fragment", frag, host, 0},
		{"TCP", tcp, host, 0},
		{"IPv6", append([]byte{0x60}, make([]byte, 60)...), host, 0},
	} {
		if got := runBPF(t, prog, c.pkt, c.pkttype); got != c.want {
			t.Errorf("%s: snap %d, want %d", c.name, got, c.want)
		}
		// The tracker agrees with the kernel on what is kept.
		if c.pkttype != host {
			continue
		}
		tr := newTracker(f)
		tr.packet(1, c.pkt)
		if kept := tr.sipPackets+tr.rtpPackets > 0; kept != (c.want != 0) {
			t.Errorf("%s: the tracker keeps it: %v; the filter: %v", c.name, kept, c.want != 0)
		}
	}
}

func TestBPFAsmErrors(t *testing.T) {
	var a bpfAsm
	a.jump(bpfJEQ, 1, "nowhere", "")
	if _, err := a.assemble(); err == nil {
		t.Error("a jump to a missing label assembled")
	}
}
