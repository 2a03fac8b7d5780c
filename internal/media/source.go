package media

// FrameSource produces audio that the mixer plays into a call, one frame per
// clock tick. Later players (file/TTS playback, tone generators) implement
// it.
//
// A source is attached either to one leg with Leg.SetSource (only that
// participant hears it, e.g. a prompt for the caller) or to a whole call
// with Mixer.SetSource ("call voice": every leg hears it). On every tick
// the mixer calls ReadFrame once per attached source, adds the samples to
// what each listener receives (saturating) and encodes the result with the
// listener's codec.
//
// ReadFrame is called from the shared clock goroutine while the mixer is
// locked, so it must be fast and must not block or call back into the
// engine: prepare audio ahead of time (e.g. decode into a buffer on another
// goroutine).
type FrameSource interface {
	// ReadFrame fills dst, which holds FrameSamples samples at
	// InternalRate, and returns how many samples it wrote; the rest of the
	// frame is silence. done reports that the source is exhausted: the
	// samples returned with it are still played and the source is then
	// detached, so ReadFrame is not called again. A source that wants to
	// signal completion to its owner does so itself when it returns done.
	ReadFrame(dst []int16) (n int, done bool)
}

// Handler receives events for a leg. Methods are called from engine
// goroutines (the engine's notifier for DTMF, shared by every leg, so a
// slow handler delays other legs' digits; a short-lived goroutine for
// Inactive) and must not block for long. They may call methods of the
// leg, including Close.
type Handler interface {
	// DTMF is called exactly once per RFC 4733 event, at its onset, or,
	// when the peer did not negotiate telephone-event, once per digit
	// detected in the received audio, when it is recognised.
	DTMF(d DTMFEvent)
	// Inactive is called once when a started leg has received no RTP for
	// Config.InactivityTimeout. It is called again only after RTP was
	// received in between.
	Inactive()
}

// DTMFEndHandler may additionally be implemented by a Handler to learn
// when a digit ends, with its final duration. It is called at most once per
// event, after DTMF, and not at all if every end packet was lost (or, for
// in-band digits, if the leg stops receiving audio during the tone).
type DTMFEndHandler interface {
	DTMFEnd(d DTMFEvent)
}

type nopHandler struct{}

func (nopHandler) DTMF(DTMFEvent) {}
func (nopHandler) Inactive()      {}
