package sip

import (
	"strings"
)

// unknownSignal is reported for a DTMF INFO whose signal is not a DTMF
// digit (e.g. Signal=16, a hook flash), so that the call can say the tone
// could not be handled.
const unknownSignal = '?'

// parseDTMFInfo reads a digit from a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160", the de-facto format of Cisco and most PBXs)
// or application/dtmf (the digit alone). Event codes 10 and 11 stand for
// '*' and '#', as in RFC 4733. A signal that is present but not a digit
// gives unknownSignal.
func parseDTMFInfo(contentType string, body []byte) (byte, bool) {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	text := strings.TrimSpace(string(body))
	switch ct {
	case "application/dtmf-relay":
		for _, line := range strings.Split(text, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				v = strings.TrimSpace(v)
				if d, ok := dtmfDigit(v); ok {
					return d, true
				}
				if v != "" {
					return unknownSignal, true
				}
				return 0, false
			}
		}
	case "application/dtmf":
		return dtmfDigit(text)
	}
	return 0, false
}

func dtmfDigit(v string) (byte, bool) {
	switch strings.ToUpper(v) {
	case "10", "*":
		return '*', true
	case "11", "#":
		return '#', true
	case "12":
		return 'A', true
	case "13":
		return 'B', true
	case "14":
		return 'C', true
	case "15":
		return 'D', true
	}
	if len(v) == 1 {
		c := strings.ToUpper(v)[0]
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'D' {
			return c, true
		}
	}
	return 0, false
}

// parseSipfrag reads the status code of a message/sipfrag body's status
// line ("SIP/2.0 200 OK"), as NOTIFYs for REFER carry (RFC 3420, RFC 3515).
func parseSipfrag(body []byte) (int, bool) {
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(strings.ToUpper(f[0]), "SIP/2.0") {
		return 0, false
	}
	n := 0
	for _, r := range f[1] {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	if n < 100 || n > 699 {
		return 0, false
	}
	return n, true
}
