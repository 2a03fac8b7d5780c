package media

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Direction is the media direction of an SDP stream (RFC 3264 §5.1,
// RFC 4566 §6) from the point of view of the side that wrote it.
type Direction uint8

// Directions. DirectionUnknown means nothing was negotiated yet.
const (
	DirectionUnknown Direction = iota
	DirectionSendRecv
	DirectionSendOnly
	DirectionRecvOnly
	DirectionInactive
)

func (d Direction) String() string {
	switch d {
	case DirectionSendRecv:
		return "sendrecv"
	case DirectionSendOnly:
		return "sendonly"
	case DirectionRecvOnly:
		return "recvonly"
	case DirectionInactive:
		return "inactive"
	}
	return "unknown"
}

// Sends reports whether a side with direction d sends media.
func (d Direction) Sends() bool { return d == DirectionSendRecv || d == DirectionSendOnly }

// Receives reports whether a side with direction d receives media.
func (d Direction) Receives() bool { return d == DirectionSendRecv || d == DirectionRecvOnly }

// reverse is the direction an answerer uses for an offer with direction d
// (RFC 3264 §6.1): sendonly is answered recvonly and vice versa.
func (d Direction) reverse() Direction {
	switch d {
	case DirectionSendOnly:
		return DirectionRecvOnly
	case DirectionRecvOnly:
		return DirectionSendOnly
	}
	return d
}

func parseDirection(attrs []sdp.Attribute) Direction {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv":
			return DirectionSendRecv
		case "sendonly":
			return DirectionSendOnly
		case "recvonly":
			return DirectionRecvOnly
		case "inactive":
			return DirectionInactive
		}
	}
	return DirectionUnknown
}

// maxSDPSize bounds the SDP bodies we parse.
const maxSDPSize = 64 << 10

// Our telephone-event payload type in offers and the events we declare.
const (
	offerEventPT = 101
	eventRange   = "0-16"
)

// format is one audio payload format of a stream.
type format struct {
	pt  uint8
	enc encoding
}

// remoteStream is the audio stream of a remote SDP that we use.
type remoteStream struct {
	index   int            // m-line index in the description
	addr    netip.AddrPort // where to send; invalid when the peer does not want media (hold)
	dir     Direction      // the peer's direction
	formats []format       // formats we support, in the peer's order of preference
	eventPT int            // telephone-event/8000 payload type, -1 if absent
}

func badSDP(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadSDP, fmt.Sprintf(format, args...))
}

// parseSDP parses an SDP body (RFC 4566).
func parseSDP(b []byte) (*sdp.SessionDescription, error) {
	if len(b) == 0 {
		return nil, badSDP("empty body")
	}
	if len(b) > maxSDPSize {
		return nil, badSDP("body of %d bytes exceeds %d", len(b), maxSDPSize)
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	return &sd, nil
}

// usableAudio reports whether md is an audio stream over plain RTP that was
// not rejected (port 0 rejects a stream, RFC 3264 §6, §8.2).
func usableAudio(md *sdp.MediaDescription) bool {
	if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
		return false
	}
	proto := strings.Join(md.MediaName.Protos, "/")
	return proto == "RTP/AVP" || proto == "RTP/AVPF"
}

// findAudio returns the first usable audio stream with a codec in common.
func findAudio(sd *sdp.SessionDescription, want4 bool) (remoteStream, error) {
	for i, md := range sd.MediaDescriptions {
		if !usableAudio(md) {
			continue
		}
		rs, err := parseStream(sd, i, want4)
		if err != nil {
			return remoteStream{}, err
		}
		if len(rs.formats) > 0 {
			return rs, nil
		}
	}
	return remoteStream{}, fmt.Errorf("%w: no usable audio stream offers PCMU, PCMA or G722", ErrNoCommonCodec)
}

// parseStream extracts the formats, address and direction of m-line i.
func parseStream(sd *sdp.SessionDescription, i int, want4 bool) (remoteStream, error) {
	md := sd.MediaDescriptions[i]
	rs := remoteStream{index: i, eventPT: -1}
	port := md.MediaName.Port.Value
	if port < 1 || port > 65535 {
		return rs, badSDP("m-line %d: port %d out of range", i, port)
	}
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			return rs, badSDP("m-line %d: invalid RTP payload type %q", i, f)
		}
		name, rate, channels, mapped := rtpmap(md, uint8(pt))
		if !mapped { // static payload types, RFC 3551 §6
			switch pt {
			case 0:
				name, rate, channels = "PCMU", 8000, 1
			case 8:
				name, rate, channels = "PCMA", 8000, 1
			case 9:
				name, rate, channels = "G722", 8000, 1
			}
		}
		if rate != 8000 || channels != 1 {
			continue
		}
		switch {
		case strings.EqualFold(name, "PCMU"):
			rs.formats = append(rs.formats, format{pt: uint8(pt), enc: encPCMU})
		case strings.EqualFold(name, "PCMA"):
			rs.formats = append(rs.formats, format{pt: uint8(pt), enc: encPCMA})
		case strings.EqualFold(name, "G722"):
			rs.formats = append(rs.formats, format{pt: uint8(pt), enc: encG722})
		case strings.EqualFold(name, "telephone-event") && rs.eventPT < 0:
			rs.eventPT = int(pt)
		}
	}

	// Connection data: media level overrides session level (RFC 4566 §5.7).
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return rs, badSDP("m-line %d: no connection address (c=)", i)
	}
	if ci.NetworkType != "IN" {
		return rs, badSDP("m-line %d: network type %q", i, ci.NetworkType)
	}
	ip, err := netip.ParseAddr(ci.Address.Address)
	if err != nil {
		return rs, badSDP("m-line %d: connection address %q is not an IP address", i, ci.Address.Address)
	}
	ip = ip.Unmap()
	switch {
	case ip.Zone() != "" || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return rs, badSDP("m-line %d: connection address %s is not unicast", i, ip)
	case ip.Is4() != want4:
		return rs, badSDP("m-line %d: connection address %s is of an address family we do not bind", i, ip)
	}

	// Direction: media level, else session level, else sendrecv (RFC 3264 §5.1).
	rs.dir = parseDirection(md.Attributes)
	if rs.dir == DirectionUnknown {
		rs.dir = parseDirection(sd.Attributes)
	}
	if rs.dir == DirectionUnknown {
		rs.dir = DirectionSendRecv
	}
	if ip.IsUnspecified() {
		// RFC 2543-style hold (RFC 3264 §8.4): the peer does not want to
		// receive. Keep its sending side of the direction.
		if rs.dir.Sends() {
			rs.dir = DirectionSendOnly
		} else {
			rs.dir = DirectionInactive
		}
	} else {
		rs.addr = netip.AddrPortFrom(ip, uint16(port))
	}
	return rs, nil
}

// rtpmap looks up "a=rtpmap:<pt> <name>/<rate>[/<channels>]" (RFC 4566 §6).
func rtpmap(md *sdp.MediaDescription, pt uint8) (name string, rate, channels int, ok bool) {
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		num, rest, found := strings.Cut(a.Value, " ")
		if !found {
			continue
		}
		if p, err := strconv.ParseUint(num, 10, 8); err != nil || p != uint64(pt) {
			continue
		}
		parts := strings.Split(strings.TrimSpace(rest), "/")
		if len(parts) < 2 || len(parts) > 3 {
			return "", 0, 0, true // present but malformed: matches nothing
		}
		rate, err := strconv.Atoi(parts[1])
		if err != nil {
			return "", 0, 0, true
		}
		channels = 1
		if len(parts) == 3 {
			if channels, err = strconv.Atoi(parts[2]); err != nil {
				return "", 0, 0, true
			}
		}
		return parts[0], rate, channels, true
	}
	return "", 0, 0, false
}

// localDesc is what we put in an SDP body we send.
type localDesc struct {
	sessID, sessVer uint64
	addr            netip.Addr
	port            int
	formats         []format
	eventPT         int // -1 for none
	dir             Direction
}

// audioMedia builds our audio m-line and its attributes.
func (d localDesc) audioMedia() *sdp.MediaDescription {
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media:  "audio",
		Port:   sdp.RangedPort{Value: d.port},
		Protos: []string{"RTP", "AVP"},
	}}
	for _, f := range d.formats {
		pt := strconv.Itoa(int(f.pt))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", pt+" "+f.enc.String()+"/8000"))
	}
	if d.eventPT >= 0 {
		pt := strconv.Itoa(d.eventPT)
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			sdp.NewAttribute("rtpmap", pt+" telephone-event/8000"),
			sdp.NewAttribute("fmtp", pt+" "+eventRange))
	}
	md.Attributes = append(md.Attributes,
		sdp.NewAttribute("ptime", strconv.Itoa(int(FrameDuration.Milliseconds()))),
		sdp.NewPropertyAttribute(d.dir.String()))
	return md
}

// rejectedMedia answers an offered m-line we do not use: same media,
// protocol and formats with port 0 (RFC 3264 §6).
func rejectedMedia(offered *sdp.MediaDescription) *sdp.MediaDescription {
	formats := offered.MediaName.Formats
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media:   offered.MediaName.Media,
		Port:    sdp.RangedPort{Value: 0},
		Protos:  offered.MediaName.Protos,
		Formats: formats,
	}}
}

// marshal builds the session description with the given m-lines.
func (d localDesc) marshal(media []*sdp.MediaDescription) ([]byte, error) {
	addrType := "IP6"
	if d.addr.Is4() {
		addrType = "IP4"
	}
	sd := &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username:       "-",
			SessionID:      d.sessID,
			SessionVersion: d.sessVer,
			NetworkType:    "IN",
			AddressType:    addrType,
			UnicastAddress: d.addr.String(),
		},
		SessionName: "switchboard",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: addrType,
			Address:     &sdp.Address{Address: d.addr.String()},
		},
		TimeDescriptions:  []sdp.TimeDescription{{}},
		MediaDescriptions: media,
	}
	return sd.Marshal()
}
