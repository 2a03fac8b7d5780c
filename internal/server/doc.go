// Package server wires Switchboard's components together from a Config and
// runs them: the store, event outbox and subscriptions, media engine, call
// core, SIP edge and REST API. cmd/switchboard and the integration tests
// both start servers through it.
package server
