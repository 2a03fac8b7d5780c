package media

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

func sdpLines(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

const sdpHead = "v=0\r\no=peer 42 7 IN IP4 127.0.0.1\r\ns=call"

// sess builds an SDP body: the fixed head, session-level c= (if not
// empty), t= and then the remaining lines.
func sess(c string, rest ...string) []byte {
	lines := []string{sdpHead}
	if c != "" {
		lines = append(lines, c)
	}
	return sdpLines(append(append(lines, "t=0 0"), rest...)...)
}

func newTestLeg(t testing.TB) *Leg {
	t.Helper()
	l, err := newEngine(t, testConfig()).NewLeg(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustParse(t *testing.T, b []byte) *sdp.SessionDescription {
	t.Helper()
	sd, err := parseSDP(b)
	if err != nil {
		t.Fatalf("our SDP does not parse: %v\n%s", err, b)
	}
	return sd
}

func attr(md *sdp.MediaDescription, key string) []string {
	var v []string
	for _, a := range md.Attributes {
		if a.Key == key {
			v = append(v, a.Value)
		}
	}
	return v
}

func TestOffer(t *testing.T) {
	l := newTestLeg(t)
	b, err := l.Offer()
	if err != nil {
		t.Fatal(err)
	}
	sd := mustParse(t, b)
	if sd.ConnectionInformation == nil || sd.ConnectionInformation.Address.Address != "127.0.0.1" ||
		sd.ConnectionInformation.AddressType != "IP4" {
		t.Errorf("c= %+v", sd.ConnectionInformation)
	}
	if len(sd.MediaDescriptions) != 1 {
		t.Fatalf("%d m-lines", len(sd.MediaDescriptions))
	}
	md := sd.MediaDescriptions[0]
	if md.MediaName.Media != "audio" || md.MediaName.Port.Value != l.LocalPort() ||
		strings.Join(md.MediaName.Protos, "/") != "RTP/AVP" || !slices.Equal(md.MediaName.Formats, []string{"0", "8", "9", "101"}) {
		t.Errorf("m= %v", md.MediaName)
	}
	if got := attr(md, "rtpmap"); !slices.Equal(got, []string{"0 PCMU/8000", "8 PCMA/8000", "9 G722/8000", "101 telephone-event/8000"}) {
		t.Errorf("rtpmap %q", got)
	}
	if got := attr(md, "fmtp"); !slices.Equal(got, []string{"101 0-16"}) {
		t.Errorf("fmtp %q", got)
	}
	if got := attr(md, "ptime"); !slices.Equal(got, []string{"20"}) {
		t.Errorf("ptime %q", got)
	}
	if parseDirection(md.Attributes) != DirectionSendRecv {
		t.Errorf("direction %v", parseDirection(md.Attributes))
	}
	b2, err := l.Offer()
	if err != nil {
		t.Fatal(err)
	}
	sd2 := mustParse(t, b2)
	if sd2.Origin.SessionID != sd.Origin.SessionID || sd2.Origin.SessionVersion <= sd.Origin.SessionVersion {
		t.Errorf("second offer origin %+v after %+v", sd2.Origin, sd.Origin)
	}
}

func TestAnswer(t *testing.T) {
	const port = "4000"
	audio := func(formats string, extra ...string) string {
		return strings.Join(append([]string{"m=audio " + port + " RTP/AVP " + formats}, extra...), "\r\n")
	}
	c := "c=IN IP4 127.0.0.1"
	ev101 := "a=rtpmap:101 telephone-event/8000"
	local := netip.MustParseAddrPort("127.0.0.1:4000")

	type want struct {
		err       error
		codec     string
		pt        uint8
		eventPT   int
		dir       Direction // in our answer
		remoteDir Direction
		remote    netip.AddrPort
		ports     []int // per answer m-line: -1 ours, else the port
	}
	ok := func(codec string, pt uint8, eventPT int, dir Direction) want {
		return want{codec: codec, pt: pt, eventPT: eventPT, dir: dir, remoteDir: dir.reverse(), remote: local, ports: []int{-1}}
	}
	tests := []struct {
		name  string
		offer []byte
		want  want
	}{
		{"PCMU and telephone-event", sess(c, audio("0 101", ev101, "a=fmtp:101 0-15")), ok("PCMU", 0, 101, DirectionSendRecv)},
		{"offer order wins", sess(c, audio("8 0 101", ev101)), ok("PCMA", 8, 101, DirectionSendRecv)},
		{"dynamic telephone-event PT carried", sess(c, audio("0 96", "a=rtpmap:96 telephone-event/8000")), ok("PCMU", 0, 96, DirectionSendRecv)},
		{"no telephone-event", sess(c, audio("0")), ok("PCMU", 0, -1, DirectionSendRecv)},
		{"unsupported codecs skipped", sess(c, audio("18 3 8", "a=rtpmap:18 G729/8000", "a=rtpmap:3 GSM/8000")), ok("PCMA", 8, -1, DirectionSendRecv)},
		{"G722 when offered first", sess(c, audio("9 0 101", "a=rtpmap:9 G722/8000", ev101)), ok("G722", 9, 101, DirectionSendRecv)},
		{"static G722 without rtpmap", sess(c, audio("9")), ok("G722", 9, -1, DirectionSendRecv)},
		{"dynamic PCMU", sess(c, audio("97", "a=rtpmap:97 pcmu/8000")), ok("PCMU", 97, -1, DirectionSendRecv)},
		{"sendonly answered recvonly", sess(c, audio("0", "a=sendonly")), ok("PCMU", 0, -1, DirectionRecvOnly)},
		{"recvonly answered sendonly", sess(c, audio("0", "a=recvonly")), ok("PCMU", 0, -1, DirectionSendOnly)},
		{"inactive answered inactive", sess(c, audio("0", "a=inactive")), ok("PCMU", 0, -1, DirectionInactive)},
		{"session-level direction", sess(c, "a=sendonly", audio("0")), ok("PCMU", 0, -1, DirectionRecvOnly)},
		{"media direction overrides session", sess(c, "a=sendonly", audio("0", "a=sendrecv")), ok("PCMU", 0, -1, DirectionSendRecv)},
		{"media-level c= only", sess("", audio("0", c)), ok("PCMU", 0, -1, DirectionSendRecv)},
		{"media-level c= overrides session", sess("c=IN IP4 192.0.2.1", audio("0", "c=IN IP4 127.0.0.1")), ok("PCMU", 0, -1, DirectionSendRecv)},
		{"hold with c=0.0.0.0", sess("c=IN IP4 0.0.0.0", audio("0")),
			want{codec: "PCMU", eventPT: -1, dir: DirectionRecvOnly, remoteDir: DirectionSendOnly, ports: []int{-1}}},
		{"video rejected, audio used", sess(c, "m=video 5000 RTP/AVP 96", "a=rtpmap:96 VP8/90000", audio("0")),
			want{codec: "PCMU", eventPT: -1, dir: DirectionSendRecv, remoteDir: DirectionSendRecv, remote: local, ports: []int{0, -1}}},
		{"rejected audio skipped", sess(c, "m=audio 0 RTP/AVP 0", audio("8")),
			want{codec: "PCMA", pt: 8, eventPT: -1, dir: DirectionSendRecv, remoteDir: DirectionSendRecv, remote: local, ports: []int{0, -1}}},
		{"SRTP audio skipped", sess(c, "m=audio 6000 RTP/SAVP 0", audio("0")),
			want{codec: "PCMU", eventPT: -1, dir: DirectionSendRecv, remoteDir: DirectionSendRecv, remote: local, ports: []int{0, -1}}},
		{"no common codec", sess(c, audio("18 3", "a=rtpmap:18 G729/8000")), want{err: ErrNoCommonCodec}},
		{"PCMU at 16 kHz", sess(c, audio("97", "a=rtpmap:97 PCMU/16000")), want{err: ErrNoCommonCodec}},
		{"stereo PCMA", sess(c, audio("97", "a=rtpmap:97 PCMA/8000/2")), want{err: ErrNoCommonCodec}},
		{"SRTP only", sess(c, "m=audio 6000 RTP/SAVP 0"), want{err: ErrNoCommonCodec}},
		{"no media", sess(c), want{err: ErrNoCommonCodec}},
		{"missing c=", sess("", audio("0")), want{err: ErrBadSDP}},
		{"hostname in c=", sess("c=IN IP4 pbx.example.com", audio("0")), want{err: ErrBadSDP}},
		{"IPv6 c= on IPv4 engine", sess("c=IN IP6 ::1", audio("0")), want{err: ErrBadSDP}},
		{"broadcast c=", sess("c=IN IP4 255.255.255.255", audio("0")), want{err: ErrBadSDP}},
		{"multicast c=", sess("c=IN IP4 224.2.1.1/127", audio("0")), want{err: ErrBadSDP}},
		{"bad payload type", sess(c, audio("zero")), want{err: ErrBadSDP}},
		{"garbage", []byte("hello world"), want{err: ErrBadSDP}},
		{"empty", nil, want{err: ErrBadSDP}},
		{"bad version", []byte("v=1\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"), want{err: ErrBadSDP}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLeg(t)
			b, err := l.Answer(tt.offer)
			if tt.want.err != nil {
				if !errors.Is(err, tt.want.err) {
					t.Fatalf("err = %v, want %v", err, tt.want.err)
				}
				if l.Codec() != (Codec{}) || l.RemoteDirection() != DirectionUnknown {
					t.Fatalf("failed Answer changed the leg")
				}
				return
			}
			if err != nil {
				t.Fatalf("Answer: %v", err)
			}
			w := tt.want
			if got := l.Codec(); got.Name != w.codec || got.PayloadType != w.pt || got.ClockRate != 8000 {
				t.Errorf("codec %+v, want %s/%d", got, w.codec, w.pt)
			}
			if got := l.RemoteDirection(); got != w.remoteDir {
				t.Errorf("remote direction %v, want %v", got, w.remoteDir)
			}
			neg := l.neg.Load()
			if neg.remote != w.remote || neg.txEventPT != w.eventPT || neg.localDir != w.dir {
				t.Errorf("negotiated remote %v event %d dir %v", neg.remote, neg.txEventPT, neg.localDir)
			}
			if neg.rx[w.pt] == kindNone || (w.eventPT >= 0 && neg.rx[w.eventPT] != kindEvent) {
				t.Errorf("receive map does not accept pt %d / event %d", w.pt, w.eventPT)
			}

			sd := mustParse(t, b)
			if len(sd.MediaDescriptions) != len(w.ports) {
				t.Fatalf("answer has %d m-lines, want %d:\n%s", len(sd.MediaDescriptions), len(w.ports), b)
			}
			for i, p := range w.ports {
				md := sd.MediaDescriptions[i]
				if p != -1 {
					if md.MediaName.Port.Value != p || len(md.MediaName.Formats) == 0 {
						t.Errorf("m-line %d: %v, want port %d", i, md.MediaName, p)
					}
					continue
				}
				wantFormats := []string{strconv.Itoa(int(w.pt))}
				if w.eventPT >= 0 {
					wantFormats = append(wantFormats, strconv.Itoa(w.eventPT))
					if got := attr(md, "rtpmap"); !slices.Contains(got, strconv.Itoa(w.eventPT)+" telephone-event/8000") {
						t.Errorf("telephone-event rtpmap missing: %q", got)
					}
				}
				if md.MediaName.Port.Value != l.LocalPort() || !slices.Equal(md.MediaName.Formats, wantFormats) {
					t.Errorf("our m-line %v, want port %d formats %v", md.MediaName, l.LocalPort(), wantFormats)
				}
				if got := parseDirection(md.Attributes); got != w.dir {
					t.Errorf("answer direction %v, want %v", got, w.dir)
				}
			}
		})
	}
}

func TestSetRemoteAnswer(t *testing.T) {
	c := "c=IN IP4 127.0.0.1"
	tests := []struct {
		name      string
		answer    []byte
		err       error
		codec     string
		eventPT   int
		remoteDir Direction
	}{
		{"PCMU with events", sess(c, "m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"), nil, "PCMU", 101, DirectionSendRecv},
		{"PCMA chosen", sess(c, "m=audio 4000 RTP/AVP 8"), nil, "PCMA", -1, DirectionSendRecv},
		{"event PT renumbered", sess(c, "m=audio 4000 RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000"), nil, "PCMU", 96, DirectionSendRecv},
		{"peer holds", sess(c, "m=audio 4000 RTP/AVP 0", "a=recvonly"), nil, "PCMU", -1, DirectionRecvOnly},
		{"rejected", sess(c, "m=audio 0 RTP/AVP 0"), ErrRejected, "", 0, 0},
		{"no common codec", sess(c, "m=audio 4000 RTP/AVP 18"), ErrNoCommonCodec, "", 0, 0},
		{"first m-line not audio", sess(c, "m=video 4000 RTP/AVP 96"), ErrBadSDP, "", 0, 0},
		{"no m-line", sess(c), ErrBadSDP, "", 0, 0},
		{"garbage", []byte("v=0\r\nbogus"), ErrBadSDP, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLeg(t)
			if err := l.SetRemoteAnswer(tt.answer); !errors.Is(err, ErrNoOffer) {
				t.Fatalf("answer without offer: err = %v, want ErrNoOffer", err)
			}
			if _, err := l.Offer(); err != nil {
				t.Fatal(err)
			}
			err := l.SetRemoteAnswer(tt.answer)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			neg := l.neg.Load()
			if l.Codec().Name != tt.codec || neg.txEventPT != tt.eventPT || l.RemoteDirection() != tt.remoteDir ||
				neg.localDir != tt.remoteDir.reverse() {
				t.Errorf("codec %v event %d remote dir %v local dir %v", l.Codec(), neg.txEventPT, l.RemoteDirection(), neg.localDir)
			}
			if tt.eventPT >= 0 && (neg.rx[101] != kindEvent || neg.rx[tt.eventPT] != kindEvent) {
				t.Errorf("events not accepted on 101 and %d", tt.eventPT)
			}
			if want := netip.MustParseAddrPort("127.0.0.1:4000"); neg.remote != want || l.Stats().RemoteAddr != want {
				t.Errorf("remote %v", neg.remote)
			}
			if err := l.SetRemoteAnswer(tt.answer); !errors.Is(err, ErrNoOffer) {
				t.Errorf("second answer: err = %v, want ErrNoOffer", err)
			}
		})
	}
}

// FuzzAnswer feeds arbitrary bytes to Answer and SetRemoteAnswer: they must
// never panic, and whatever they accept must produce SDP we can parse.
func FuzzAnswer(f *testing.F) {
	f.Add(offerSDP(4000, "0 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendonly"))
	f.Add(sess("c=IN IP4 0.0.0.0", "m=video 5000 RTP/AVP 96", "m=audio 4000 RTP/AVP 97 9", "a=rtpmap:97 PCMA/8000", "a=inactive"))
	f.Add(sess("", "m=audio 4000/2 RTP/AVPF 0", "c=IN IP4 127.0.0.1", "a=rtpmap:0 PCMU/8000/1"))
	f.Add([]byte("v=0\r\no=- 0 0 IN IP4 ::1\r\ns=\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n"))
	f.Add([]byte("v=0\n"))
	l, err := newEngine(f, testConfig()).NewLeg(nil)
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := l.Answer(data); err == nil {
			mustParse(t, b)
			if c := l.Codec(); c.Name != "PCMU" && c.Name != "PCMA" {
				t.Fatalf("accepted offer negotiated codec %+v", c)
			}
		} else if !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrNoCommonCodec) {
			t.Fatalf("unexpected error class: %v", err)
		}
		if _, err := l.Offer(); err != nil {
			t.Fatal(err)
		}
		if err := l.SetRemoteAnswer(data); err == nil {
			if c := l.Codec(); c.Name != "PCMU" && c.Name != "PCMA" {
				t.Fatalf("accepted answer negotiated codec %+v", c)
			}
		}
	})
}

func TestIPv6(t *testing.T) {
	eng, err := NewEngine(Config{BindIP: "::1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := eng.NewLeg(nil)
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer l.Close()
	b, err := l.Offer()
	if err != nil {
		t.Fatal(err)
	}
	sd := mustParse(t, b)
	if ci := sd.ConnectionInformation; ci.AddressType != "IP6" || ci.Address.Address != "::1" || sd.Origin.AddressType != "IP6" {
		t.Fatalf("c= %+v o= %+v", ci, sd.Origin)
	}
	answer := []byte("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
	if err := l.SetRemoteAnswer(answer); err != nil {
		t.Fatal(err)
	}
	if got := l.Stats().RemoteAddr; got != netip.MustParseAddrPort("[::1]:4000") {
		t.Fatalf("remote %v", got)
	}
	if _, err := l.Answer(offerSDP(4000, "0")); !errors.Is(err, ErrBadSDP) {
		t.Fatalf("IPv4 offer on IPv6 engine: err = %v, want ErrBadSDP", err)
	}
}
