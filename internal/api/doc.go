// Package api is Switchboard's REST edge: the ACS Call Automation operations
// under /calling (HMAC-authenticated exactly as the official SDKs sign,
// api-version checked, Repeatability-Request-ID honoured, every failure in
// ACS's error shape), the callback-signing keys (/calling/keys and the OpenID
// configuration), and Switchboard's own administration API under /admin/v1.
// Handlers turn HTTP into call.Manager commands and results back into JSON;
// they never touch SIP or media.
package api
