package registrar

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestParseDigest(t *testing.T) {
	tests := []struct {
		in   string
		want digestCreds
		ok   bool
	}{
		{`Digest username="alice", realm="r", nonce="n", uri="sip:r", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="c", qop=auth, nc=00000001`,
			digestCreds{username: "alice", realm: "r", nonce: "n", uri: "sip:r", response: "0123456789abcdef0123456789abcdef", algorithm: "MD5", cnonce: "c", qop: "auth", nc: "00000001"}, true},
		// baresip style: no spaces after commas, algorithm after response
		{`Digest username="bob",realm="r",nonce="n",uri="sip:r;transport=udp",response="x",algorithm=MD5,cnonce="c",qop=auth,nc=00000002`,
			digestCreds{username: "bob", realm: "r", nonce: "n", uri: "sip:r;transport=udp", response: "x", algorithm: "MD5", cnonce: "c", qop: "auth", nc: "00000002"}, true},
		{"digest\tUSERNAME = \"a\\\"b\" ,Realm=\"r, with comma\", opaque=\"o\", unknown=\"ignored\"",
			digestCreds{username: `a"b`, realm: "r, with comma", opaque: "o"}, true},
		{`Digest username="alice",`, digestCreds{username: "alice"}, true},
		{`Digest`, digestCreds{}, false},
		{`Digestusername="a"`, digestCreds{}, false},
		{`Basic YWxhZGRpbjpvcGVuc2VzYW1l`, digestCreds{}, false},
		{`Digest username`, digestCreds{}, false},
		{`Digest username=`, digestCreds{}, false},
		{`Digest username="a`, digestCreds{}, false},
		{`Digest username="a" realm="r"`, digestCreds{}, false},
		{`Digest username="a", username="b"`, digestCreds{}, false},
		{`Digest ="a"`, digestCreds{}, false},
		{`Digest username="a\`, digestCreds{}, false},
		{"Digest username=\"" + strings.Repeat("a", maxDigestHeaderLen) + "\"", digestCreds{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDigest(tt.in)
			if !tt.ok {
				if !errors.Is(err, errBadDigest) {
					t.Fatalf("err = %v, want errBadDigest", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDigestResponseRFC2617(t *testing.T) {
	// RFC 2617 §3.5 example (HTTP, qop=auth).
	c := digestCreds{
		username: "Mufasa", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", uri: "/dir/index.html",
		qop: "auth", nc: "00000001", cnonce: "0a4f113b",
	}
	if got := digestResponse(c, "GET", "testrealm@host.com", "Circle Of Life"); got != "6629fae49393a05397450978507c4ef1" {
		t.Fatalf("response %s", got)
	}
}

func TestNonce(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := New(newCreds(), "realm", nil, func() time.Time { return now }, Options{Secret: []byte("s1")})
	other := New(newCreds(), "realm", nil, func() time.Time { return now }, Options{Secret: []byte("s2")})
	n := r.newNonce(now)
	tests := []struct {
		name         string
		r            *Registrar
		nonce        string
		at           time.Time
		valid, fresh bool
	}{
		{"fresh", r, n, now, true, true},
		{"at ttl", r, n, now.Add(5 * time.Minute), true, true},
		{"expired", r, n, now.Add(5*time.Minute + time.Second), true, false},
		{"slightly in the future", r, n, now.Add(-30 * time.Second), true, true},
		{"far in the future", r, n, now.Add(-2 * time.Minute), true, false},
		{"other secret", other, n, now, false, false},
		{"garbage", r, "not-a-nonce", now, false, false},
		{"truncated", r, n[:40], now, false, false},
		{"bit flip", r, flip(n), now, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			valid, fresh := tt.r.checkNonce(tt.nonce, tt.at)
			if valid != tt.valid || fresh != tt.fresh {
				t.Fatalf("valid=%v fresh=%v, want %v %v", valid, fresh, tt.valid, tt.fresh)
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}

func TestURIMatches(t *testing.T) {
	tests := []struct {
		digest, ruri string
		want         bool
	}{
		{"sip:example.com", "sip:example.com", true},
		{"sip:example.com:5060", "sip:example.com", true},
		{"sip:EXAMPLE.com;transport=tcp", "sip:example.com", true},
		{"sip:bob@example.com", "sip:bob@example.com:5060;user=phone", true},
		{"sips:example.com", "sips:example.com:5061", true},
		{"sip:example.com:5080", "sip:example.com", false},
		{"sip:alice@example.com", "sip:bob@example.com", false},
		{"sips:example.com", "sip:example.com", false},
		{"sip:other.com", "sip:example.com", false},
		{"", "sip:example.com", false},
	}
	for _, tt := range tests {
		var u sip.Uri
		if err := sip.ParseUri(tt.ruri, &u); err != nil {
			t.Fatal(err)
		}
		if got := uriMatches(tt.digest, u); got != tt.want {
			t.Errorf("uriMatches(%q, %q) = %v, want %v", tt.digest, tt.ruri, got, tt.want)
		}
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add(`Digest username="alice", realm="r", nonce="n", uri="sip:r", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="c", qop=auth, nc=00000001`)
	f.Add(`Digest username="a\"b",realm="x, y"`)
	f.Add(`Digest a=b,,,c="d\\"`)
	f.Add(`Basic abc`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseDigest(s)
		if err != nil {
			if !errors.Is(err, errBadDigest) {
				t.Fatalf("unexpected error type %v", err)
			}
			return
		}
		// Re-serialising the parsed values with quoting must parse back equal.
		again := `Digest username="` + quoteEscape(c.username) + `", realm="` + quoteEscape(c.realm) +
			`", nonce="` + quoteEscape(c.nonce) + `", uri="` + quoteEscape(c.uri) +
			`", response="` + quoteEscape(c.response) + `", cnonce="` + quoteEscape(c.cnonce) +
			`", opaque="` + quoteEscape(c.opaque) + `", algorithm="` + quoteEscape(c.algorithm) +
			`", qop="` + quoteEscape(c.qop) + `", nc="` + quoteEscape(c.nc) + `"`
		if len(again) > maxDigestHeaderLen {
			return
		}
		c2, err := parseDigest(again)
		if err != nil || c2 != c {
			t.Fatalf("round trip failed for %q: %v\n%+v\n%+v", s, err, c, c2)
		}
	})
}
