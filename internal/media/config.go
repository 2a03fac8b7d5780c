package media

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"time"
)

// Audio timing of the engine. Every leg is converted to and from this format
// at its edge; everything in between (mixing, sources, taps) works on frames
// of FrameSamples 16-bit linear samples at InternalRate.
const (
	// InternalRate is the sample rate of decoded PCM inside the engine, in Hz.
	InternalRate = 8000
	// FrameDuration is the packetisation time (ptime) and the clock period.
	FrameDuration = frameMillis * time.Millisecond
	// FrameSamples is the number of samples in one internal frame.
	FrameSamples = InternalRate * frameMillis / 1000

	frameMillis = 20
)

// Errors returned by the package. Errors from SDP handling wrap ErrBadSDP,
// ErrNoCommonCodec or ErrRejected so callers can map them with errors.Is
// (the SIP layer answers 488 Not Acceptable Here for ErrNoCommonCodec).
var (
	ErrBadConfig     = errors.New("media: invalid config")
	ErrNoPorts       = errors.New("media: no free RTP port")
	ErrClosed        = errors.New("media: closed")
	ErrRunning       = errors.New("media: engine already running")
	ErrBadSDP        = errors.New("media: malformed SDP")
	ErrNoCommonCodec = errors.New("media: no common codec")
	ErrRejected      = errors.New("media: audio stream rejected by peer")
	ErrNoOffer       = errors.New("media: no outstanding offer")
)

// Config configures an Engine.
type Config struct {
	// BindIP is the local address RTP sockets bind to, e.g. "0.0.0.0" or
	// "127.0.0.1". Empty means "0.0.0.0". An IPv6 address binds IPv6-only
	// sockets.
	BindIP string
	// AdvertiseIP is the address written in SDP c= lines. It must be a
	// unicast address of the same family as BindIP. Empty means BindIP,
	// which then must not be unspecified.
	AdvertiseIP string
	// PortMin and PortMax bound the inclusive RTP port range; only even
	// ports are used (RFC 3550 §11). Both zero lets the operating system
	// pick any free port, which is meant for tests and development.
	PortMin, PortMax int
	// InactivityTimeout is how long a started leg may go without receiving
	// RTP before Handler.Inactive is called. Zero disables the check.
	InactivityTimeout time.Duration
	// Workers is how many goroutines share each tick's work (reading the
	// legs' sockets, mixing and sending). Zero means GOMAXPROCS. A tick
	// with little work runs on one goroutine whatever the setting.
	Workers int
}

// settings is a validated Config.
type settings struct {
	bind, advertise  netip.Addr
	portMin, portMax int // even-aligned; both 0 for OS-assigned ports
	inactivity       time.Duration
	workers          int
}

func (c Config) validate() (settings, error) {
	var s settings
	bad := func(format string, args ...any) (settings, error) {
		return settings{}, fmt.Errorf("%w: %s", ErrBadConfig, fmt.Sprintf(format, args...))
	}
	bindIP := c.BindIP
	if bindIP == "" {
		bindIP = "0.0.0.0"
	}
	var err error
	if s.bind, err = netip.ParseAddr(bindIP); err != nil {
		return bad("BindIP %q: %v", c.BindIP, err)
	}
	s.bind = s.bind.Unmap()
	if s.bind.Zone() != "" {
		return bad("BindIP %q: zones are not supported", c.BindIP)
	}
	switch {
	case c.AdvertiseIP != "":
		if s.advertise, err = netip.ParseAddr(c.AdvertiseIP); err != nil {
			return bad("AdvertiseIP %q: %v", c.AdvertiseIP, err)
		}
		s.advertise = s.advertise.Unmap()
	case s.bind.IsUnspecified():
		return bad("AdvertiseIP is required when BindIP is %s", s.bind)
	default:
		s.advertise = s.bind
	}
	if s.advertise.IsUnspecified() || s.advertise.IsMulticast() || s.advertise.Zone() != "" {
		return bad("AdvertiseIP %s is not a usable unicast address", s.advertise)
	}
	if s.advertise.Is4() != s.bind.Is4() {
		return bad("AdvertiseIP %s and BindIP %s are of different address families", s.advertise, s.bind)
	}

	switch {
	case c.PortMin == 0 && c.PortMax == 0:
	case c.PortMin < 1 || c.PortMax > 65535 || c.PortMin > c.PortMax:
		return bad("port range [%d,%d] is not within [1,65535] or is inverted", c.PortMin, c.PortMax)
	default:
		s.portMin = c.PortMin + c.PortMin%2 // first even port
		s.portMax = c.PortMax - c.PortMax%2 // last even port
		if s.portMin > s.portMax {
			return bad("port range [%d,%d] contains no even port", c.PortMin, c.PortMax)
		}
	}
	if c.InactivityTimeout < 0 {
		return bad("negative InactivityTimeout")
	}
	s.inactivity = c.InactivityTimeout
	switch {
	case c.Workers < 0:
		return bad("negative Workers")
	case c.Workers == 0:
		s.workers = runtime.GOMAXPROCS(0)
	default:
		s.workers = c.Workers
	}
	return s, nil
}
