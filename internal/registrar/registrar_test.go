package registrar

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestChallengeFormat(t *testing.T) {
	h := newHarness(t, Options{})
	chal := h.challenge()
	re := regexp.MustCompile(`^Digest realm="switchboard\.test", nonce="[A-Za-z0-9_-]{43}", algorithm=MD5, qop="auth"$`)
	if !re.MatchString(chal) {
		t.Fatalf("challenge %q does not match %s", chal, re)
	}
	if h.creds.count() != 0 {
		t.Fatal("credential store consulted for an unauthenticated request")
	}
	if chal2 := h.challenge(); chal2 == chal {
		t.Fatal("two challenges carried the same nonce")
	}
}

func TestRegisterAuth(t *testing.T) {
	const ruri = "sip:" + testRealm
	tests := []struct {
		name      string
		auth      func(t *testing.T, chal string) string
		to        string
		advance   time.Duration // clock change between challenge and answer
		storeErr  error
		want      int
		wantStale bool
	}{
		{name: "qop=auth", want: 200, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri, "alice", "alice-pass", true)
		}},
		{name: "no qop (RFC 2069 style)", want: 200, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri, "alice", "alice-pass", false)
		}},
		{name: "upper-case response hex and scheme", want: 200, auth: func(t *testing.T, c string) string {
			a := answer(t, c, "REGISTER", ruri, "alice", "alice-pass", true)
			i := strings.Index(a, `response="`) + len(`response="`)
			return "DIGEST" + strings.TrimPrefix(a[:i], "Digest") + strings.ToUpper(a[i:i+32]) + a[i+32:]
		}},
		{name: "digest uri with params and explicit port", want: 200, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri+":5060;transport=udp", "alice", "alice-pass", true)
		}},
		{name: "wrong password", want: 401, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri, "alice", "nope", true)
		}},
		{name: "unknown user", to: "mallory", want: 401, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri, "mallory", "x", true)
		}},
		{name: "credential store error", storeErr: errStore, want: 500, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri, "alice", "alice-pass", true)
		}},
		{name: "registering another user's AOR", to: "bob", want: 403, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri, "alice", "alice-pass", true)
		}},
		{name: "other realm", want: 401, auth: func(t *testing.T, c string) string {
			return answer(t, strings.Replace(c, testRealm, "evil.test", 1), "REGISTER", ruri, "alice", "alice-pass", true)
		}},
		{name: "forged nonce", want: 401, auth: func(t *testing.T, c string) string {
			forged := regexp.MustCompile(`nonce="[^"]*"`).ReplaceAllString(c, `nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"`)
			return answer(t, forged, "REGISTER", ruri, "alice", "alice-pass", true)
		}},
		{name: "method mismatch in digest", want: 401, auth: func(t *testing.T, c string) string {
			return answer(t, c, "INVITE", ruri, "alice", "alice-pass", true)
		}},
		{name: "digest uri mismatch", want: 400, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", "sip:other.test", "alice", "alice-pass", true)
		}},
		{name: "unsupported algorithm", want: 401, auth: func(t *testing.T, c string) string {
			return answer(t, strings.Replace(c, "algorithm=MD5", "algorithm=SHA-256", 1), "REGISTER", ruri, "alice", "alice-pass", true)
		}},
		{name: "malformed digest", want: 400, auth: func(t *testing.T, c string) string {
			return `Digest username="alice", realm="switchboard.test", nonce="unterminated`
		}},
		{name: "missing response", want: 400, auth: func(t *testing.T, c string) string {
			return `Digest username="alice", realm="switchboard.test", nonce="x", uri="sip:switchboard.test"`
		}},
		{name: "qop without cnonce", want: 400, auth: func(t *testing.T, c string) string {
			a := answer(t, c, "REGISTER", ruri, "alice", "alice-pass", true)
			return regexp.MustCompile(`cnonce="[^"]*", `).ReplaceAllString(a, "")
		}},
		{name: "non-digest scheme is ignored", want: 401, auth: func(t *testing.T, c string) string {
			return "Bearer abc.def"
		}},
		{name: "nonce still fresh after 4m59s", advance: 4*time.Minute + 59*time.Second, want: 200, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri, "alice", "alice-pass", true)
		}},
		{name: "stale nonce with correct password", advance: 6 * time.Minute, want: 401, wantStale: true, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri, "alice", "alice-pass", true)
		}},
		{name: "stale nonce with wrong password", advance: 6 * time.Minute, want: 401, auth: func(t *testing.T, c string) string {
			return answer(t, c, "REGISTER", ruri, "alice", "wrong", true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			chal := h.challenge()
			h.now = h.now.Add(tt.advance)
			h.creds.err = tt.storeErr
			res := h.do(reg{to: tt.to, cseq: 2, auth: tt.auth(t, chal)}.build(t))
			if res.StatusCode != tt.want {
				t.Fatalf("status %d %s, want %d", res.StatusCode, res.Reason, tt.want)
			}
			if res.StatusCode == 401 {
				www := res.GetHeader("WWW-Authenticate")
				if www == nil {
					t.Fatal("401 without WWW-Authenticate")
				}
				if stale := strings.Contains(www.Value(), "stale=true"); stale != tt.wantStale {
					t.Fatalf("stale=%v in %q, want %v", stale, www.Value(), tt.wantStale)
				}
			}
			bound := len(h.r.Lookup("alice")) + len(h.r.Lookup("bob"))
			if (res.StatusCode == 200) != (bound == 1) {
				t.Fatalf("status %d but %d bindings", res.StatusCode, bound)
			}
		})
	}
}

func TestRegisterBinding(t *testing.T) {
	h := newHarness(t, Options{})
	res := h.register(reg{callID: "cid-7", source: "198.51.100.20:61000"})
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := contactExpires(t, res); !maps.Equal(got, map[string]string{"sip:alice@10.0.0.5:5060;transport=udp": "3600"}) {
		t.Fatalf("200 OK contacts %v", got)
	}
	if res.GetHeader("Date") == nil {
		t.Error("200 OK without Date")
	}
	bs := h.r.Lookup("alice")
	if len(bs) != 1 {
		t.Fatalf("bindings %v", bs)
	}
	b := bs[0]
	if b.Username != "alice" || b.Source != "198.51.100.20:61000" || b.Transport != "UDP" ||
		b.CallID != "cid-7" || b.CSeq != 2 || !b.Expires.Equal(h.now.Add(time.Hour)) ||
		b.Contact.Host != "10.0.0.5" || b.Contact.Port != 5060 || b.UserAgent != "test-ua" {
		t.Fatalf("binding %+v", b)
	}
	if got := b.Destination(); got != "198.51.100.20:61000" {
		t.Fatalf("Destination %s, want the REGISTER source", got)
	}
	b.Source = ""
	if got := b.Destination(); got != "10.0.0.5:5060" {
		t.Fatalf("Destination without source %s", got)
	}
	for uri, want := range map[string]string{"sip:a@[2001:db8::1]:5070": "[2001:db8::1]:5070", "sips:a@[::1]": "[::1]:5061", "sip:a@host.test": "host.test:5060"} {
		var u sip.Uri
		if err := sip.ParseUri(uri, &u); err != nil {
			t.Fatal(err)
		}
		if got := (Binding{Contact: u}).Destination(); got != want {
			t.Errorf("Destination(%s) = %s, want %s", uri, got, want)
		}
	}
	// Lookup returns copies.
	bs[0].Contact.Host = "mutated"
	if h.r.Lookup("alice")[0].Contact.Host != "10.0.0.5" {
		t.Fatal("Lookup exposed internal state")
	}
	// Expiry.
	h.now = h.now.Add(time.Hour - time.Second)
	if len(h.r.Lookup("alice")) != 1 {
		t.Fatal("binding expired early")
	}
	h.now = h.now.Add(time.Second)
	if len(h.r.Lookup("alice")) != 0 {
		t.Fatal("binding survived its expiry")
	}
}

// TestRegisterSequence runs REGISTER sequences for alice and checks the
// response and the resulting bindings after each step.
func TestRegisterSequence(t *testing.T) {
	const (
		c1 = "sip:alice@10.0.0.5:5060;transport=udp"
		c2 = "sip:alice@10.0.0.6:5070"
	)
	type step struct {
		r        reg
		advance  time.Duration
		want     int
		contacts map[string]string // expected Contact expires in 200 OK
		minExp   string            // expected Min-Expires on 423
	}
	tests := []struct {
		name  string
		opts  Options
		steps []step
	}{
		{"expires header and param", Options{}, []step{
			{r: reg{expires: "600"}, want: 200, contacts: map[string]string{c1: "600"}},
			{r: reg{expires: "600", contacts: []string{"<" + c1 + ">;expires=120"}}, want: 200, contacts: map[string]string{c1: "120"}},
		}},
		{"too brief", Options{}, []step{
			{r: reg{expires: "30"}, want: 423, minExp: "60"},
			{r: reg{contacts: []string{"<" + c1 + ">;expires=59"}}, want: 423, minExp: "60"},
			{r: reg{expires: "60"}, want: 200, contacts: map[string]string{c1: "60"}},
		}},
		{"custom min expires", Options{MinExpires: 5 * time.Minute}, []step{
			{r: reg{expires: "120"}, want: 423, minExp: "300"},
		}},
		{"clamped to max", Options{MaxExpires: 1800 * time.Second}, []step{
			{r: reg{expires: "99999999999"}, want: 200, contacts: map[string]string{c1: "1800"}},
		}},
		{"two contacts then remove one", Options{}, []step{
			{r: reg{contacts: []string{"<" + c1 + ">", "<" + c2 + ">;expires=300"}}, want: 200, contacts: map[string]string{c1: "3600", c2: "300"}},
			{r: reg{contacts: []string{"<" + c2 + ">;expires=0"}}, want: 200, contacts: map[string]string{c1: "3600"}},
		}},
		{"comma separated contacts", Options{}, []step{
			{r: reg{contacts: []string{"<" + c1 + ">, \"Desk\" <" + c2 + ">;q=0.5"}}, want: 200, contacts: map[string]string{c1: "3600", c2: "3600"}},
		}},
		{"query lists bindings with remaining time", Options{}, []step{
			{r: reg{expires: "600"}, want: 200, contacts: map[string]string{c1: "600"}},
			{r: reg{noContact: true}, advance: 100*time.Second + 500*time.Millisecond, want: 200, contacts: map[string]string{c1: "500"}},
		}},
		{"refresh replaces binding", Options{}, []step{
			{r: reg{expires: "600"}, want: 200, contacts: map[string]string{c1: "600"}},
			{r: reg{expires: "900", contacts: []string{"<sip:alice@10.0.0.5;transport=UDP>"}}, want: 200, contacts: map[string]string{"sip:alice@10.0.0.5;transport=UDP": "900"}},
		}},
		{"wildcard removes all", Options{}, []step{
			{r: reg{contacts: []string{"<" + c1 + ">", "<" + c2 + ">"}}, want: 200, contacts: map[string]string{c1: "3600", c2: "3600"}},
			{r: reg{contacts: []string{"*"}, expires: "0"}, want: 200, contacts: map[string]string{}},
		}},
		{"wildcard needs Expires 0", Options{}, []step{
			{r: reg{contacts: []string{"*"}}, want: 400},
			{r: reg{contacts: []string{"*"}, expires: "60"}, want: 400},
			{r: reg{contacts: []string{"*", "<" + c1 + ">"}, expires: "0"}, want: 400},
		}},
		{"out of order CSeq", Options{}, []step{
			{r: reg{callID: "A", cseq: 10}, want: 200, contacts: map[string]string{c1: "3600"}},
			{r: reg{callID: "A", cseq: 10, expires: "0"}, want: 500},
			{r: reg{callID: "A", cseq: 9, contacts: []string{"*"}, expires: "0"}, want: 500},
			{r: reg{callID: "B", cseq: 1, expires: "120"}, want: 200, contacts: map[string]string{c1: "120"}},
		}},
		{"invalid expires", Options{}, []step{
			{r: reg{expires: "soon"}, want: 400},
			{r: reg{expires: "-1"}, want: 400},
			{r: reg{contacts: []string{"<" + c1 + ">;expires=x"}}, want: 400},
		}},
		{"non-SIP contact", Options{}, []step{
			{r: reg{contacts: []string{"<mailto:alice@example.com>"}}, want: 400},
		}},
		{"binding limit drops soonest expiring", Options{MaxBindingsPerUser: 2}, []step{
			{r: reg{contacts: []string{"<sip:alice@10.0.0.1>;expires=100"}}, want: 200, contacts: map[string]string{"sip:alice@10.0.0.1": "100"}},
			{r: reg{contacts: []string{"<sip:alice@10.0.0.2>;expires=200"}}, want: 200, contacts: map[string]string{"sip:alice@10.0.0.1": "100", "sip:alice@10.0.0.2": "200"}},
			{r: reg{contacts: []string{"<sip:alice@10.0.0.3>;expires=300"}}, want: 200, contacts: map[string]string{"sip:alice@10.0.0.2": "200", "sip:alice@10.0.0.3": "300"}},
		}},
		{"expired bindings are not listed", Options{}, []step{
			{r: reg{contacts: []string{"<" + c1 + ">;expires=60", "<" + c2 + ">;expires=120"}}, want: 200, contacts: map[string]string{c1: "60", c2: "120"}},
			{r: reg{noContact: true}, advance: 90 * time.Second, want: 200, contacts: map[string]string{c2: "30"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts)
			for i, s := range tt.steps {
				h.now = h.now.Add(s.advance)
				res := h.register(s.r)
				if res.StatusCode != s.want {
					t.Fatalf("step %d: status %d %s, want %d", i, res.StatusCode, res.Reason, s.want)
				}
				if s.minExp != "" {
					if me := res.GetHeader("Min-Expires"); me == nil || me.Value() != s.minExp {
						t.Fatalf("step %d: Min-Expires %v, want %s", i, me, s.minExp)
					}
				}
				if s.contacts == nil {
					continue
				}
				if got := contactExpires(t, res); !maps.Equal(got, s.contacts) {
					t.Fatalf("step %d: contacts %v, want %v", i, got, s.contacts)
				}
				if n := len(h.r.Lookup("alice")); n != len(s.contacts) {
					t.Fatalf("step %d: Lookup has %d bindings, want %d", i, n, len(s.contacts))
				}
			}
		})
	}
}

func TestRegisterSourceUpdates(t *testing.T) {
	h := newHarness(t, Options{})
	h.register(reg{source: "198.51.100.1:1000"})
	h.register(reg{source: "198.51.100.1:2000"}) // NAT rebinding
	bs := h.r.Lookup("alice")
	if len(bs) != 1 || bs[0].Source != "198.51.100.1:2000" {
		t.Fatalf("bindings %+v", bs)
	}
}

func TestMalformedRegister(t *testing.T) {
	drop := func(hdr string) func(string) string {
		return func(s string) string {
			return regexp.MustCompile(`(?m)^`+hdr+`:[^\r]*\r\n`).ReplaceAllString(s, "")
		}
	}
	tests := []struct {
		name string
		raw  func(string) string
		want int
	}{
		{"missing Call-ID", drop("Call-ID"), 400},
		{"missing CSeq", drop("CSeq"), 400},
		{"missing From", drop("From"), 400},
		{"missing To", drop("To"), 400},
		{"CSeq method mismatch", func(s string) string { return strings.Replace(s, " REGISTER\r\n", " INVITE\r\n", 1) }, 400},
		{"To without user", func(s string) string { return strings.Replace(s, "To: <sip:alice@", "To: <sip:", 1) }, 400},
		{"To with tel URI", func(s string) string {
			return regexp.MustCompile(`To: [^\r]*`).ReplaceAllString(s, "To: <tel:+15550100>")
		}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			msg, err := sip.ParseMessage([]byte(tt.raw(reg{}.buildText())))
			if err != nil {
				t.Skipf("sipgo rejects this message itself: %v", err)
			}
			req := msg.(*sip.Request)
			req.SetSource("203.0.113.5:40000")
			res := h.do(req)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d %s, want %d", res.StatusCode, res.Reason, tt.want)
			}
		})
	}
}

func TestNonRegisterMethod(t *testing.T) {
	h := newHarness(t, Options{})
	req := parseRequest(t, strings.Replace(strings.Replace(reg{}.buildText(), "REGISTER sip:", "OPTIONS sip:", 1), " REGISTER\r\n", " OPTIONS\r\n", 1), "")
	if res := h.do(req); res.StatusCode != 405 {
		t.Fatalf("status %d", res.StatusCode)
	}
}

func TestNilSafety(t *testing.T) {
	h := newHarness(t, Options{})
	h.r.HandleRegister(nil, &fakeTx{})
	h.r.HandleRegister(reg{}.build(t), nil)
	if _, ok := h.r.Authenticate(nil, nil); ok {
		t.Fatal("nil request authenticated")
	}
	// A request built by hand with no headers at all.
	tx := &fakeTx{}
	h.r.HandleRegister(sip.NewRequest(sip.REGISTER, sip.Uri{Host: testRealm}), tx)
	if len(tx.responses) != 1 || tx.responses[0].StatusCode != 400 {
		t.Fatalf("responses %v", tx.responses)
	}
}

func TestRecoverFromPanic(t *testing.T) {
	h := newHarness(t, Options{})
	h.r.creds = panickingStore{}
	auth := answer(t, h.challenge(), "REGISTER", "sip:"+testRealm, "alice", "alice-pass", true)
	res := h.do(reg{cseq: 2, auth: auth}.build(t))
	if res.StatusCode != 500 {
		t.Fatalf("status %d", res.StatusCode)
	}
}

func TestAuthenticateInvite(t *testing.T) {
	const ruri = "sip:+15550100@" + testRealm
	invite := func(t *testing.T, hdr string) *sip.Request {
		text := "INVITE " + ruri + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-inv\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:alice@" + testRealm + ">;tag=f\r\n" +
			"To: <" + ruri + ">\r\n" +
			"Call-ID: inv-1\r\n" +
			"CSeq: 1 INVITE\r\n" +
			"Contact: <sip:alice@10.0.0.5:5060>\r\n"
		if hdr != "" {
			text += hdr + "\r\n"
		}
		text += "Content-Length: 0\r\n\r\n"
		return parseRequest(t, text, "")
	}
	h := newHarness(t, Options{})
	tx := &fakeTx{}
	if _, ok := h.r.Authenticate(invite(t, ""), tx); ok {
		t.Fatal("unauthenticated INVITE accepted")
	}
	if len(tx.responses) != 1 || tx.responses[0].StatusCode != 407 {
		t.Fatalf("responses %v", tx.responses)
	}
	pa := tx.responses[0].GetHeader("Proxy-Authenticate")
	if pa == nil || tx.responses[0].GetHeader("WWW-Authenticate") != nil {
		t.Fatal("407 must carry Proxy-Authenticate only")
	}
	chal := pa.Value()

	tests := []struct {
		name     string
		hdr      string
		wantUser string
		want     int // response status when rejected
	}{
		{"valid", "Proxy-Authorization: " + answer(t, chal, "INVITE", ruri, "alice", "alice-pass", true), "alice", 0},
		{"valid bob no qop", "Proxy-Authorization: " + answer(t, chal, "INVITE", ruri, "bob", "bob-pass", false), "bob", 0},
		{"wrong password", "Proxy-Authorization: " + answer(t, chal, "INVITE", ruri, "alice", "x", true), "", 407},
		{"credentials in Authorization instead", "Authorization: " + answer(t, chal, "INVITE", ruri, "alice", "alice-pass", true), "", 407},
		{"digest for REGISTER replayed on INVITE", "Proxy-Authorization: " + answer(t, chal, "REGISTER", ruri, "alice", "alice-pass", true), "", 407},
		{"malformed", `Proxy-Authorization: Digest username=`, "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := &fakeTx{}
			user, ok := h.r.Authenticate(invite(t, tt.hdr), tx)
			if tt.wantUser != "" {
				if !ok || user != tt.wantUser || len(tx.responses) != 0 {
					t.Fatalf("user=%q ok=%v responses=%d", user, ok, len(tx.responses))
				}
				return
			}
			if ok || len(tx.responses) != 1 || tx.responses[0].StatusCode != tt.want {
				t.Fatalf("ok=%v responses=%v, want one %d", ok, tx.responses, tt.want)
			}
		})
	}
}

func TestConcurrentRegistrations(t *testing.T) {
	h := newHarness(t, Options{})
	chal := h.challenge()
	auth := answer(t, chal, "REGISTER", "sip:"+testRealm, "alice", "alice-pass", true)
	reqs := make([]*sip.Request, 20)
	for i := range reqs {
		reqs[i] = reg{callID: fmt.Sprint("c", i), cseq: 2, auth: auth,
			contacts: []string{fmt.Sprintf("<sip:alice@10.0.1.%d>", i)}}.build(t)
	}
	var wg sync.WaitGroup
	for _, req := range reqs {
		wg.Go(func() {
			h.r.HandleRegister(req, &fakeTx{})
			_ = h.r.Lookup("alice")
		})
	}
	wg.Wait()
	if n := len(h.r.Lookup("alice")); n != 10 {
		t.Fatalf("%d bindings, want the per-user cap of 10", n)
	}
}
