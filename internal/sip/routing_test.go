package sip

import (
	"net"
	"testing"

	"github.com/switchboard-oss/switchboard/internal/config"
)

func TestNormalizeNumber(t *testing.T) {
	cases := map[string]string{
		"+14255550100":        "+14255550100",
		"14255550100":         "+14255550100",
		"+1 (425) 555-0100":   "+14255550100",
		"+14255550100;npdi":   "+14255550100",
		"alice":               "",
		"":                    "",
		"+":                   "",
		"1234567890123456789": "",
		"+1425555010a":        "",
	}
	for in, want := range cases {
		if got := normalizeNumber(in); got != want {
			t.Errorf("normalizeNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTrunkMatching(t *testing.T) {
	ts, err := newTrunks([]config.Trunk{
		{Name: "us", Address: "127.0.0.1:5060", Transport: "udp", AllowedSources: []string{"10.0.0.0/8"}, Numbers: []string{"+1425*"}, Routes: []string{"+1"}},
		{Name: "any", Address: "127.0.0.1:5061", Transport: "tcp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	us, any := ts[0], ts[1]
	if !us.allows(net.ParseIP("10.1.2.3")) || us.allows(net.ParseIP("192.168.0.1")) {
		t.Error("CIDR source matching")
	}
	if !any.allows(net.ParseIP("127.0.0.1")) || any.allows(net.ParseIP("127.0.0.2")) {
		t.Error("default source is the trunk address")
	}
	if !us.carries("+14255550100") || us.carries("+12065550100") || !any.carries("+4930123") {
		t.Error("number patterns")
	}
	if !us.routes("+12065550100") || us.routes("+4930123") || !any.routes("+4930123") {
		t.Error("routes")
	}
}
