package sip

import (
	"strings"
)

// parseDTMFInfo reads a digit from a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160", the de-facto format of Cisco and most PBXs)
// or application/dtmf (the digit alone). Event codes 10 and 11 stand for
// '*' and '#', as in RFC 4733.
func parseDTMFInfo(contentType string, body []byte) (byte, bool) {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	text := strings.TrimSpace(string(body))
	switch ct {
	case "application/dtmf-relay":
		for _, line := range strings.Split(text, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				return dtmfDigit(strings.TrimSpace(v))
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
