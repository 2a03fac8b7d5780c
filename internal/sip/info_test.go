package sip

import "testing"

func TestParseDTMFInfo(t *testing.T) {
	cases := []struct {
		ct, body string
		want     byte
		ok       bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', true},
		{"application/dtmf-relay", "signal= #\nduration=100", '#', true},
		{"application/dtmf-relay", "Signal=11\r\nDuration=160", '#', true},
		{"application/dtmf-relay", "Signal=10", '*', true},
		{"Application/DTMF-Relay; charset=x", "Signal=d", 'D', true},
		{"application/dtmf", "7", '7', true},
		{"application/dtmf-relay", "Duration=160", 0, false},
		{"application/dtmf-relay", "Signal=16", '?', true}, // hook flash: present, not a digit
		{"application/dtmf-relay", "Signal=", 0, false},
		{"application/broadsoft", "Signal=5", 0, false},
		{"", "", 0, false},
	}
	for _, c := range cases {
		got, ok := parseDTMFInfo(c.ct, []byte(c.body))
		if got != c.want || ok != c.ok {
			t.Errorf("parseDTMFInfo(%q, %q) = %q, %v; want %q, %v", c.ct, c.body, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160"))
	f.Add("application/dtmf", []byte("#"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, ok := parseDTMFInfo(ct, body)
		if ok && !(d >= '0' && d <= '9' || d >= 'A' && d <= 'D' || d == '*' || d == '#' || d == unknownSignal) {
			t.Fatalf("invalid digit %q", d)
		}
	})
}

func TestParseSipfrag(t *testing.T) {
	cases := map[string]int{"SIP/2.0 200 OK": 200, "SIP/2.0 100 Trying\r\n": 100, "sip/2.0 486 Busy Here\r\nVia: x": 486}
	for in, want := range cases {
		if got, ok := parseSipfrag([]byte(in)); !ok || got != want {
			t.Errorf("parseSipfrag(%q) = %d, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "HTTP/1.1 200 OK", "SIP/2.0 abc", "SIP/2.0 99 x", "SIP/2.0"} {
		if _, ok := parseSipfrag([]byte(bad)); ok {
			t.Errorf("parseSipfrag(%q) accepted", bad)
		}
	}
}
