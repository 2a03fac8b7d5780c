// Package registrar implements a SIP registrar (RFC 3261 §10) with HTTP
// Digest authentication (RFC 2617 / RFC 7616, algorithm MD5, qop "auth" or
// none) for Switchboard's communication users.
//
// A communication user with identifier "8:acs:<resource>_<id>" registers as
// SIP user "<id>" (the To/AOR user part and the digest username) with the
// password supplied by a [Credentials] implementation.
//
// [Registrar.HandleRegister] is a sipgo request handler for REGISTER:
//
//   - no usable Authorization header → 401 with
//     WWW-Authenticate: Digest realm="…", nonce="…", algorithm=MD5, qop="auth"
//     (stale=true when the nonce was genuine but expired);
//   - authenticated user different from the To user → 403;
//   - otherwise the Contact bindings are added, refreshed or removed (Expires
//     header or per-contact expires parameter; "Contact: *" with
//     "Expires: 0" removes all; too short an interval → 423 with
//     Min-Expires) and a 200 OK lists the current bindings with their
//     remaining expires;
//   - malformed requests → 400. The handler never panics.
//
// Nonces are stateless: a timestamp and random salt authenticated with
// HMAC-SHA256 under a per-Registrar secret, valid for Options.NonceTTL.
// Replays within that window are not detected (no nc tracking).
//
// Bindings live in memory and are lost on restart (clients re-register).
// Each binding records the address the REGISTER came from ([Binding.Source])
// so requests can reach clients behind NAT ([Binding.Destination]).
//
// [Registrar.Authenticate] challenges other requests (INVITE from registered
// users) with 407 Proxy-Authenticate and returns the authenticated username.
package registrar
