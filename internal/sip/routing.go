package sip

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/switchboard-oss/switchboard/internal/config"
)

// trunk is a configured trunk with its allowed sources resolved.
type trunk struct {
	config.Trunk
	nets []*net.IPNet
}

func newTrunks(cfg []config.Trunk) ([]*trunk, error) {
	out := make([]*trunk, 0, len(cfg))
	for _, tc := range cfg {
		t := &trunk{Trunk: tc}
		sources := tc.AllowedSources
		if len(sources) == 0 {
			host, _, _ := net.SplitHostPort(tc.Address)
			ips, err := net.DefaultResolver.LookupIPAddr(context.Background(), host)
			if err != nil {
				return nil, fmt.Errorf("trunk %s: resolving %s: %w", tc.Name, host, err)
			}
			for _, ip := range ips {
				sources = append(sources, ip.IP.String())
			}
		}
		for _, s := range sources {
			if !strings.Contains(s, "/") {
				if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
					s += "/32"
				} else {
					s += "/128"
				}
			}
			_, n, err := net.ParseCIDR(s)
			if err != nil {
				return nil, fmt.Errorf("trunk %s: allowed source %q: %w", tc.Name, s, err)
			}
			t.nets = append(t.nets, n)
		}
		out = append(out, t)
	}
	return out, nil
}

// allows reports whether a request from ip may come from this trunk.
func (t *trunk) allows(ip net.IP) bool {
	for _, n := range t.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// carries reports whether the trunk delivers calls for the owned number.
func (t *trunk) carries(number string) bool {
	return len(t.Numbers) == 0 || matchAny(t.Numbers, number)
}

// routes reports whether outbound calls to number go through this trunk.
func (t *trunk) routes(number string) bool {
	if len(t.Routes) == 0 {
		return true
	}
	for _, p := range t.Routes {
		if strings.HasPrefix(number, p) {
			return true
		}
	}
	return false
}

// matchAny matches number against patterns that may end in '*'.
func matchAny(patterns []string, number string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(number, prefix) {
				return true
			}
		} else if p == number {
			return true
		}
	}
	return false
}

// normalizeNumber turns a SIP user part into E.164 ("+" and digits), or "".
// Visual separators are dropped; a number without '+' is taken as written
// with its country code.
func normalizeNumber(user string) string {
	user, _, _ = strings.Cut(user, ";") // user parameters (;phone-context=…)
	var b strings.Builder
	b.WriteByte('+')
	for i, r := range user {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case r == '-' || r == '.' || r == '(' || r == ')' || r == ' ':
		default:
			return ""
		}
	}
	n := b.String()
	if !config.IsE164(n) {
		return ""
	}
	return n
}
