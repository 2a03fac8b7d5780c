// Package call is Switchboard's domain core: the ACS model of calls, call
// connections and participants, and the state machines that move them.
//
// Each call is owned by one goroutine with an inbox (see Call.run). API
// commands, SIP leg events, media events and timers are all messages to it,
// so a call's state is never touched by two goroutines at once and its events
// leave in the order they happened. The package knows nothing of HTTP or SIP
// syntax: internal/api turns requests into Manager calls, internal/sip
// implements the Signaling and leg interfaces below, internal/media moves
// audio, and events leave through an EventSink.
package call
