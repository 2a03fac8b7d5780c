// Package e2e holds Switchboard's end-to-end tests: a real `switchboard
// serve` process, real SIP peers from Debian (SIPp, baresip) and a Node app
// on the official @azure/communication-call-automation SDK, all on loopback.
// The package has no code outside its tests; see harness_test.go.
package e2e
