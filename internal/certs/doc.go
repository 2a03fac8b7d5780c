// Package certs provisions a local certificate authority and a server
// certificate so Switchboard can serve HTTPS (and SIP over TLS) out of the
// box. The ACS SDKs refuse plain http unless explicitly told otherwise, so a
// self-hosted server needs a certificate its clients can trust: users add
// ca.pem to their trust store (for Node: NODE_EXTRA_CA_CERTS=ca.pem).
//
// [EnsureLocal] is idempotent: the CA (ECDSA P-256, 10 years) is created once
// and reused; the server certificate (ECDSA P-256, 1 year) is re-issued only
// when it is missing, unreadable, not signed by the CA, close to expiry or
// does not cover the requested names. Private keys are written with mode
// 0600, certificates with 0644, each atomically (temporary file + rename).
//
// EnsureLocal is not safe for concurrent use by several processes on the same
// directory.
package certs
