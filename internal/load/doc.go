// Package load is Switchboard's load harness: it measures how many calls
// the server carries, the way a deployment uses it (cmd/sbload runs it;
// `make load` builds the server and runs that).
//
// # Setup
//
// Everything runs on one machine over loopback, as in the reference setup:
//
//   - SIPp (test/load/uac_load.xml) places calls to an owned number through
//     a trunk, offering PCMU, streams µ-law RTP for the whole call and waits
//     for the server's BYE.
//   - The server (the binary named by Options.ServerBin) runs with a
//     generated configuration: plain HTTP, SIP over UDP, a wide media port
//     range, one trunk for 127.0.0.1, an Event Grid subscription to the app.
//   - The app (App, in this process, net/http) is a real Call Automation
//     app: it answers the subscription handshake, answers each IncomingCall
//     (POST /calling/callConnections:answer), plays an 8 kHz WAV prompt it
//     serves itself when CallConnected comes, and hangs up when
//     PlayCompleted (or PlayFailed) comes. Every request is HMAC-signed.
//
// # Measurements
//
//   - A packet capture on lo (Capture: an AF_PACKET socket with a classic
//     BPF filter and kernel timestamps; root only) follows each call's SIP
//     messages (INVITE→200, ACK→BYE and who sent the BYE, final error
//     codes) and the prompt RTP of a sample of calls (inter-arrival times,
//     RFC 3550 jitter, whether the audio is a tone rather than silence).
//     Without it the harness falls back to SIPp's own response times and
//     counters, and says so in the report.
//   - The server's CPU time and RSS come from /proc every 500 ms, its
//     goroutines and active calls from GET /admin/v1/status.
//   - The app records webhook delivery latency (arrival − the event's time)
//     and the answer round trip.
//
// # Runs
//
// ramp: setup rate steps with a short prompt; the knee is the highest rate
// with no failure and INVITE→200 p99 within a bound (RFC 7502's Session
// Establishment Rate, loosely). ladder: hold N concurrent calls with a long
// prompt and report the cost per call. latency: INVITE→200 at a moderate
// concurrency. overload: 1.5× the knee for a bounded time, then a recovery
// run at the knee; the report says whether calls were left behind.
//
// The result is one markdown table (Report.WriteTable) and, optionally,
// JSON. Each run starts from an idle server. The ramp's steps share one
// server; each ladder rung, the latency run and the overload (with its
// recovery) get a fresh one, so that per-call memory is measured against a
// true idle baseline rather than a heap grown by earlier runs. A step whose
// SIPp crashed (3.6.1 segfaults now and then at a few hundred calls/s) is
// run again once.
package load
