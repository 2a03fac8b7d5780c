// Package media is the real-time media core of Switchboard: RTP legs,
// SDP offer/answer, G.711 transcoding, DTMF reception and sending (RFC 4733
// telephone-events, or in-band tones through package dtmf) and per-call
// mixing, all driven by one shared pacing clock.
//
// # Shape
//
// An Engine owns a pool of even UDP ports and a single 20 ms clock (Run).
// A Mixer is one call; a Leg is one RTP endpoint (one SIP dialog's audio).
// Legs join mixers; on every tick the engine walks all mixers and each
// mixer sends every started leg one RTP packet with the mix-minus of the
// call (everything except the leg's own audio). No goroutine or timer
// exists per leg: each tick first reads every started leg's socket without
// blocking (up to maxDrain datagrams), then mixes, so no goroutine is woken
// per packet. Both phases are split across Config.Workers goroutines when
// there are enough legs or mixers.
//
//	eng, _ := media.NewEngine(media.Config{
//		BindIP: "0.0.0.0", AdvertiseIP: "203.0.113.10",
//		PortMin: 20000, PortMax: 29999, InactivityTimeout: 30 * time.Second,
//	}, log)
//	go eng.Run(ctx)
//
//	call := eng.NewMixer()
//	leg, err := eng.NewLeg(handler)   // ErrNoPorts when the range is exhausted
//	answer, err := leg.Answer(offer)  // ErrNoCommonCodec -> SIP 488
//	leg.Start()
//	call.Add(leg)
//	...
//	call.Close()                       // closes the legs still in it
//
// # API
//
//	func NewEngine(cfg Config, log *slog.Logger) (*Engine, error)
//	func (e *Engine) Run(ctx context.Context) error
//	func (e *Engine) NewMixer() *Mixer
//	func (e *Engine) NewLeg(h Handler) (*Leg, error)
//
//	func (m *Mixer) Add(l *Leg) error
//	func (m *Mixer) Remove(l *Leg)
//	func (m *Mixer) SetSource(src FrameSource)  // "call voice", heard by all legs
//	func (m *Mixer) Close()
//
//	func (l *Leg) Offer() ([]byte, error)
//	func (l *Leg) Answer(remoteOffer []byte) ([]byte, error)
//	func (l *Leg) SetRemoteAnswer(remoteAnswer []byte) error
//	func (l *Leg) Start()
//	func (l *Leg) Close() error
//	func (l *Leg) LocalPort() int
//	func (l *Leg) Codec() Codec
//	func (l *Leg) RemoteDirection() Direction
//	func (l *Leg) SetMuted(bool)
//	func (l *Leg) SetSource(src FrameSource)  // heard by this leg only
//	func (l *Leg) SetTap(fn func(frame []int16))
//	func (l *Leg) SendDigits(digits string, tone, gap time.Duration, done func(error))
//	func (l *Leg) Stats() Stats
//
// Handler (DTMF, Inactive) and the optional DTMFEndHandler receive leg
// events. FrameSource is the hook for players; SetTap is the hook for
// detectors, recorders and streamers.
//
// # Audio path
//
// Inside the engine audio is 16-bit linear PCM at InternalRate (8 kHz) in
// frames of FrameSamples (20 ms). A received packet is validated
// (RFC 3550 §5.1), dropped if late or duplicate, decoded (package g711)
// and queued in the leg's small receive FIFO, which bounds latency to
// 60 ms by dropping the oldest samples. On each tick the mixer takes one
// frame per leg, gives it to the leg's tap, sums the non-muted legs
// (int32) and sends each leg that sum minus its own frame plus any
// sources, saturated and encoded with the leg's codec. With nothing to hear
// the leg gets encoded silence (0xFF for PCMU), so the peer's media timers
// do not fire.
//
// # RTP behaviour
//
//   - Symmetric RTP (RFC 4961): a leg sends to the SDP address until the
//     first valid RTP packet arrives, then to that packet's source. A new
//     SDP address starts latching over.
//   - Only negotiated payload types are accepted; anything else (including
//     RTCP sent to the RTP port) is counted and dropped. Nothing on the
//     receive or send path allocates per packet.
//   - Sends use MSG_DONTWAIT: a dead or slow peer never stalls the clock;
//     failures are counted in Stats.SendErrors.
//   - The negotiated direction is honoured: nothing is sent while our side
//     is recvonly or inactive, and inactivity is not checked while the
//     peer does not send (hold).
//   - RFC 4733: each telephone-event is reported exactly once at its onset
//     (Handler.DTMF), and once more at its end to a DTMFEndHandler.
//   - In-band DTMF: when the peer did not negotiate telephone-event, a
//     dtmf.Detector runs on the leg's received audio (per packet, as the
//     clock drains the socket) and reports digits the same way; with
//     telephone-event negotiated only the events count, so no digit is
//     reported twice. See inband.go.
//   - SendDigits plays digits from the clock: as RFC 4733 events that
//     replace the audio packets (same SSRC and sequence) when
//     telephone-event was negotiated, else as tones mixed into the audio
//     the leg sends.
//
// # Concurrency
//
// All exported methods are safe for concurrent use. Handler methods run on
// the engine's notifier goroutine (DTMF, in the order received) or a
// goroutine of their own (Inactive), and may call back into the leg. Taps
// and FrameSources run on a clock worker with the mixer locked: they must
// be quick, must not call into the engine, and may run at the same time as
// those of other mixers.
package media
