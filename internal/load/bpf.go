package load

import "fmt"

// bpfInsn is one classic BPF instruction (struct sock_filter).
type bpfInsn struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const (
	bpfLD   = 0x00
	bpfLDX  = 0x01
	bpfALU  = 0x04
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfW    = 0x00
	bpfH    = 0x08
	bpfB    = 0x10
	bpfABS  = 0x20
	bpfIND  = 0x40
	bpfMSH  = 0xa0
	bpfAND  = 0x50
	bpfRSH  = 0x70
	bpfJEQ  = 0x10
	bpfJGT  = 0x20
	bpfJGE  = 0x30
	bpfJSET = 0x40
	bpfK    = 0x00

	// skfAdPktType loads the packet type (PACKET_HOST, PACKET_OUTGOING, …):
	// SKF_AD_OFF + SKF_AD_PKTTYPE.
	skfAdPktType = 0xfffff000 + 4

	packetOutgoing = 4 // PACKET_OUTGOING

	sipSnapLen = 65535
	rtpSnapLen = 20 + 8 + 12 + 64 // IP, UDP, RTP header, enough payload to classify
)

// bpfAsm assembles a program whose jumps name labels.
type bpfAsm struct {
	insns  []bpfInsn
	jumps  map[int][2]string // instruction index → true/false labels ("" = next)
	labels map[string]int
}

func (a *bpfAsm) op(code uint16, k uint32) {
	a.insns = append(a.insns, bpfInsn{Code: code, K: k})
}

func (a *bpfAsm) jump(code uint16, k uint32, jt, jf string) {
	if a.jumps == nil {
		a.jumps = map[int][2]string{}
	}
	a.jumps[len(a.insns)] = [2]string{jt, jf}
	a.insns = append(a.insns, bpfInsn{Code: bpfJMP | code | bpfK, K: k})
}

func (a *bpfAsm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.insns)
}

func (a *bpfAsm) assemble() ([]bpfInsn, error) {
	for i, l := range a.jumps {
		for n, name := range l {
			if name == "" {
				continue
			}
			target, ok := a.labels[name]
			if !ok {
				return nil, fmt.Errorf("bpf: no label %q", name)
			}
			off := target - i - 1
			if off < 0 || off > 255 {
				return nil, fmt.Errorf("bpf: jump to %q out of range (%d)", name, off)
			}
			if n == 0 {
				a.insns[i].Jt = uint8(off)
			} else {
				a.insns[i].Jf = uint8(off)
			}
		}
	}
	return a.insns, nil
}

// filterProgram compiles f for an AF_PACKET SOCK_DGRAM socket (packet data
// starts at the IP header). It keeps, once (not the loopback's outgoing
// copy), unfragmented IPv4 UDP that is SIP to or from the server (whole
// packet) or RTP from a sampled server media port to SIPp's media port
// (only the headers and the start of the payload).
func filterProgram(f captureFilter) ([]bpfInsn, error) {
	var a bpfAsm
	a.op(bpfLD|bpfW|bpfABS, skfAdPktType)
	a.jump(bpfJEQ, packetOutgoing, "drop", "")
	a.op(bpfLD|bpfB|bpfABS, 0)
	a.op(bpfALU|bpfAND|bpfK, 0xf0)
	a.jump(bpfJEQ, 0x40, "", "drop") // IPv4
	a.op(bpfLD|bpfB|bpfABS, 9)
	a.jump(bpfJEQ, 17, "", "drop") // UDP
	a.op(bpfLD|bpfH|bpfABS, 6)
	a.jump(bpfJSET, 0x3fff, "drop", "") // no fragments
	a.op(bpfLDX|bpfB|bpfMSH, 0)         // X = IP header length
	a.op(bpfLD|bpfH|bpfIND, 0)          // source port
	a.jump(bpfJEQ, uint32(f.ServerSIPPort), "sip", "")
	a.op(bpfLD|bpfH|bpfIND, 2) // destination port
	a.jump(bpfJEQ, uint32(f.ServerSIPPort), "sip", "")
	a.jump(bpfJEQ, uint32(f.SIPpMediaPort), "", "drop")
	a.op(bpfLD|bpfH|bpfIND, 0) // source port: a sampled server media port?
	a.jump(bpfJGE, uint32(f.MediaMin), "", "drop")
	a.jump(bpfJGT, uint32(f.MediaMax), "drop", "")
	a.jump(bpfJSET, 1, "drop", "")
	a.op(bpfALU|bpfRSH|bpfK, 1)
	a.op(bpfALU|bpfAND|bpfK, uint32(f.SampleMask))
	a.jump(bpfJEQ, 0, "", "drop")
	a.op(bpfRET|bpfK, rtpSnapLen)
	a.label("sip")
	a.op(bpfRET|bpfK, sipSnapLen)
	a.label("drop")
	a.op(bpfRET|bpfK, 0)
	return a.assemble()
}
