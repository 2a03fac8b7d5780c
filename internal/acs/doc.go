// Package acs holds the Azure Communication Services Call Automation model
// that every other package shares: communication identifiers and their wire
// form, the request, response and event shapes of the REST API, result codes,
// and the one error type that knows its REST status, ACS error code and SIP
// status. It has no behaviour beyond parsing and validating those shapes.
package acs
