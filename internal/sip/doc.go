// Package sip is Switchboard's signalling edge, built on sipgo. It listens
// on UDP, TCP and TLS; authenticates and routes incoming INVITEs (from trunks
// by source address, from registered communication users by digest) and hands
// them to the call core as InboundLegs; places outgoing calls through trunks
// or to registered users for the call core (call.Signaling); runs the
// registrar; and ends dialogs (BYE, CANCEL). It never formats ACS events or
// decides what a call does.
package sip
