// Package testpeer starts the real peers that Switchboard's integration tests
// talk to, from Go tests:
//
//   - SIPp (RunSIPp) with the scenarios in test/sipp: callers (uac_*.xml)
//     and callees (uas_*.xml) on the SIP side, with RTP.
//   - baresip (StartBaresip): a SIP user agent driven over its ctrl_tcp
//     interface (dial, hang up, events such as CALL_ESTABLISHED), that can
//     register with a registrar, auto-answer, play a WAV file and record
//     what it hears.
//   - the Node "customer app" (StartNodeApp, test/node/app.mjs): the real
//     @azure/communication-call-automation 1.6.0 SDK against the server's
//     REST API, plus webhook endpoints that record every Event Grid and
//     callback delivery.
//
// Every peer binds loopback addresses and ports picked at run time; nothing
// uses the well-known SIP ports.
//
// A missing binary (sipp, baresip, node/npm) skips the test with a message,
// unless REQUIRE_TEST_PEERS=1, in which case it fails the test. The
// binaries can be overridden with TEST_SIPP, TEST_BARESIP and
// TEST_NODE / TEST_NPM.
//
// Peers are stopped by t.Cleanup; when the test failed, their logs are
// written to the test log.
package testpeer
