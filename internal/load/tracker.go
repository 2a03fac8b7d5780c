package load

import (
	"github.com/switchboard-oss/switchboard/internal/media/g711"
)

// captureFilter says which packets the capture keeps: SIP to and from the
// server, and RTP from the server's media ports to SIPp's media port for a
// sample of calls. The kernel applies it as a BPF program (bpf.go); the
// tracker checks it again, so packets queued under an earlier filter are
// not misread.
type captureFilter struct {
	ServerSIPPort uint16
	MediaMin      uint16 // the server's RTP port range, inclusive
	MediaMax      uint16
	SIPpMediaPort uint16
	// SampleMask selects the RTP streams kept: those whose server port p
	// has (p>>1)&SampleMask == 0; 0 keeps all, 1 every second, 3 every
	// fourth, ...
	SampleMask uint16
}

// sampledPort reports whether RTP from server port p is kept.
func (f captureFilter) sampledPort(p uint16) bool {
	return p >= f.MediaMin && p <= f.MediaMax && p&1 == 0 && (p>>1)&f.SampleMask == 0
}

// sampleMaskFor returns the smallest mask (2^k−1) that keeps at most about
// target of concurrent streams.
func sampleMaskFor(concurrent, target int) uint16 {
	every := 1
	for every < 1<<15 && concurrent > target*every {
		every *= 2
	}
	return uint16(every - 1)
}

// callTrace is one call as seen on the wire, by SIP Call-ID. Times are
// kernel receive times in Unix nanoseconds; 0 means not seen.
type callTrace struct {
	CallID        string
	Invite        int64 // first INVITE (retransmissions counted aside)
	InviteRetrans int
	OK            int64 // first 2xx to the INVITE
	Final         int64 // first final error response to the INVITE
	FinalStatus   int   // its status code
	Ack           int64 // first ACK
	ServerBye     int64 // BYE sent by the server
	CallerBye     int64 // BYE sent by SIPp (it gave up waiting)
	Cancel        int64 // CANCEL sent by SIPp (no answer in time)
	ServerRTPPort int   // the server's m=audio port in its 200 OK
	stream        *rtpStream
}

// rtpStream is the prompt audio the server sent on one call's media port
// (sampled calls only).
type rtpStream struct {
	Port        uint16
	Packets     uint32 // RTP packets from the server, silence included
	Voiced      uint32 // packets carrying sound (the prompt), not µ-law silence
	Lost        uint32 // sequence numbers skipped
	OtherPT     uint32 // packets that were not PCMU
	FirstVoiced int64  // arrival of the first and last prompt packet
	LastVoiced  int64
	JitterNS    float64 // RFC 3550 interarrival jitter at the end of the prompt
	MaxJitterNS float64 // its largest value during the prompt

	owned       bool // claimed by a call's 200 OK
	lastArrival int64
	lastTS      uint32
	lastSeq     uint16
	jitterSet   bool
}

// voicedThreshold is the mean absolute sample value above which a packet is
// the prompt rather than silence (encoded µ-law silence decodes to 0; the
// harness's prompt tone averages several thousand).
const voicedThreshold = 300

// tracker turns captured packets into callTraces and rtpStreams. Its
// per-packet path does not allocate for RTP; SIP allocates once per call.
// It is not safe for concurrent use (Capture serializes).
type tracker struct {
	f       captureFilter
	calls   map[string]*callTrace
	streams map[uint16]*rtpStream
	retired []*rtpStream // streams whose port a later call reused
	gaps    *histogram   // inter-arrival of prompt packets

	sipPackets, rtpPackets, ignored uint64
}

func newTracker(f captureFilter) *tracker {
	return &tracker{
		f:       f,
		calls:   make(map[string]*callTrace),
		streams: make(map[uint16]*rtpStream),
		gaps:    newHistogram(50_000, 2_000_000_000), // 50 µs bins up to 2 s
	}
}

// packet processes one IPv4 packet received at ts (Unix ns).
func (t *tracker) packet(ts int64, b []byte) {
	p, ok := parseIPv4UDP(b)
	if !ok {
		t.ignored++
		return
	}
	switch {
	case p.srcPort == t.f.ServerSIPPort || p.dstPort == t.f.ServerSIPPort:
		t.sip(ts, p.srcPort == t.f.ServerSIPPort, p.payload)
	case p.dstPort == t.f.SIPpMediaPort && t.f.sampledPort(p.srcPort):
		t.rtp(ts, p.srcPort, p.payload)
	default:
		t.ignored++
	}
}

func (t *tracker) sip(ts int64, fromServer bool, b []byte) {
	m, ok := parseSIP(b)
	if !ok {
		t.ignored++
		return
	}
	t.sipPackets++
	c := t.calls[string(m.callID)] // no allocation for the lookup
	if c == nil {
		if m.method != "INVITE" || fromServer {
			return // the end of a call from before this run
		}
		c = &callTrace{CallID: string(m.callID)}
		t.calls[c.CallID] = c
	}
	invite := string(m.cseqMethod) == "INVITE"
	switch {
	case m.method == "INVITE" && !fromServer:
		if c.Invite == 0 {
			c.Invite = ts
		} else {
			c.InviteRetrans++
		}
	case m.status >= 200 && m.status < 300 && invite && fromServer:
		if c.OK == 0 {
			c.OK = ts
			c.ServerRTPPort = m.mediaPort
			if m.mediaPort > 0 && m.mediaPort <= 65535 {
				t.claimStream(c, uint16(m.mediaPort))
			}
		}
	case m.status >= 300 && invite && fromServer:
		if c.Final == 0 {
			c.Final, c.FinalStatus = ts, m.status
		}
	case m.method == "ACK" && !fromServer:
		if c.Ack == 0 && c.OK != 0 {
			c.Ack = ts
		}
	case m.method == "BYE":
		if fromServer && c.ServerBye == 0 {
			c.ServerBye = ts
		} else if !fromServer && c.CallerBye == 0 {
			c.CallerBye = ts
		}
	case m.method == "CANCEL" && !fromServer:
		if c.Cancel == 0 {
			c.Cancel = ts
		}
	}
}

// claimStream ties the RTP stream of port to call c: a stream that started
// before the 200 OK was captured is adopted, one of an earlier call retired.
func (t *tracker) claimStream(c *callTrace, port uint16) {
	if !t.f.sampledPort(port) {
		return
	}
	s := t.streams[port]
	if s != nil && s.owned {
		t.retired = append(t.retired, s)
		s = nil
	}
	if s == nil {
		s = &rtpStream{Port: port}
		t.streams[port] = s
	}
	s.owned = true
	c.stream = s
}

func (t *tracker) rtp(ts int64, port uint16, b []byte) {
	h, ok := parseRTP(b)
	if !ok {
		t.ignored++
		return
	}
	t.rtpPackets++
	s := t.streams[port]
	if s == nil {
		s = &rtpStream{Port: port}
		t.streams[port] = s
	}
	s.Packets++
	if h.payloadType != 0 {
		s.OtherPT++
	}
	voiced := h.payloadType == 0 && isVoiced(h.payload)
	if s.lastArrival != 0 {
		if d := int16(h.seq - s.lastSeq); d > 1 {
			s.Lost += uint32(d - 1)
		}
		if voiced && s.Voiced > 0 { // a gap inside the prompt
			gap := ts - s.lastArrival
			t.gaps.add(gap)
			// RFC 3550 §6.4.1: D = (Rj−Ri) − (Sj−Si), J += (|D|−J)/16,
			// in nanoseconds (8 kHz clock: 125 µs per timestamp unit).
			d := float64(gap) - float64(int32(h.timestamp-s.lastTS))*125_000
			if d < 0 {
				d = -d
			}
			if !s.jitterSet {
				s.JitterNS, s.jitterSet = 0, true
			}
			s.JitterNS += (d - s.JitterNS) / 16
			s.MaxJitterNS = max(s.MaxJitterNS, s.JitterNS)
		}
	}
	if voiced {
		if s.Voiced == 0 {
			s.FirstVoiced = ts
		}
		s.Voiced++
		s.LastVoiced = ts
	}
	s.lastArrival, s.lastTS, s.lastSeq = ts, h.timestamp, h.seq
}

// isVoiced reports whether a µ-law payload is sound rather than silence,
// from its first 40 samples.
func isVoiced(payload []byte) bool {
	n := min(len(payload), 40)
	if n == 0 {
		return false
	}
	var sum int
	for _, c := range payload[:n] {
		v := int(g711.DecodeUlaw(c))
		if v < 0 {
			v = -v
		}
		sum += v
	}
	return sum/n > voicedThreshold
}

// traceResult is what a tracker saw during one run.
type traceResult struct {
	Calls      []*callTrace
	Streams    []*rtpStream
	Gaps       *histogram
	SIPPackets uint64
	RTPPackets uint64
	Drops      uint64 // packets the kernel dropped (socket buffer full)
}

func (t *tracker) result() *traceResult {
	r := &traceResult{Gaps: t.gaps, SIPPackets: t.sipPackets, RTPPackets: t.rtpPackets}
	for _, c := range t.calls {
		if c.Invite != 0 {
			r.Calls = append(r.Calls, c)
		}
	}
	r.Streams = append(r.Streams, t.retired...)
	for _, s := range t.streams {
		r.Streams = append(r.Streams, s)
	}
	return r
}
