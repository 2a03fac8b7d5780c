package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

const testRealm = "switchboard.test"

// fakeCreds is an in-memory Credentials.
type fakeCreds struct {
	mu    sync.Mutex
	users map[string]string
	err   error
	calls int
}

func (f *fakeCreds) Password(ctx context.Context, username string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return "", false, f.err
	}
	p, ok := f.users[username]
	return p, ok, nil
}

func (f *fakeCreds) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func newCreds() *fakeCreds {
	return &fakeCreds{users: map[string]string{"alice": "alice-pass", "bob": "bob-pass"}}
}

// fakeTx records responses.
type fakeTx struct {
	mu        sync.Mutex
	responses []*sip.Response
}

func (f *fakeTx) Respond(res *sip.Response) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.responses = append(f.responses, res)
	return nil
}
func (f *fakeTx) Acks() <-chan *sip.Request          { return nil }
func (f *fakeTx) OnCancel(sip.FnTxCancel) bool       { return false }
func (f *fakeTx) Terminate()                         {}
func (f *fakeTx) OnTerminate(sip.FnTxTerminate) bool { return false }
func (f *fakeTx) Done() <-chan struct{}              { return nil }
func (f *fakeTx) Err() error                         { return nil }

// harness drives a Registrar with a controllable clock.
type harness struct {
	t     *testing.T
	r     *Registrar
	creds *fakeCreds
	now   time.Time
	seq   int
}

func newHarness(t *testing.T, opts Options) *harness {
	h := &harness{t: t, creds: newCreds(), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	h.r = New(h.creds, testRealm, nil, func() time.Time { return h.now }, opts)
	return h
}

// reg describes a REGISTER to build.
type reg struct {
	to        string   // To/AOR user; default alice
	ruri      string   // Request-URI; default sip:switchboard.test
	callID    string   // default "call-1"
	cseq      uint32   // default 1
	contacts  []string // Contact header values; nil = one default contact
	noContact bool
	expires   string // Expires header; "" = none
	auth      string // Authorization value
	source    string // default 203.0.113.5:40000
	raw       func(string) string
}

func (o reg) build(t *testing.T) *sip.Request {
	t.Helper()
	return parseRequest(t, o.buildText(), o.source)
}

func (o reg) buildText() string {
	if o.to == "" {
		o.to = "alice"
	}
	if o.ruri == "" {
		o.ruri = "sip:" + testRealm
	}
	if o.callID == "" {
		o.callID = "call-1"
	}
	if o.cseq == 0 {
		o.cseq = 1
	}
	if o.contacts == nil && !o.noContact {
		o.contacts = []string{"<sip:" + o.to + "@10.0.0.5:5060;transport=udp>"}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER %s SIP/2.0\r\n", o.ruri)
	b.WriteString("Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-test;rport\r\n")
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=from-tag\r\n", o.to, testRealm)
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", o.to, testRealm)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", o.callID)
	fmt.Fprintf(&b, "CSeq: %d REGISTER\r\n", o.cseq)
	for _, c := range o.contacts {
		fmt.Fprintf(&b, "Contact: %s\r\n", c)
	}
	if o.expires != "" {
		fmt.Fprintf(&b, "Expires: %s\r\n", o.expires)
	}
	if o.auth != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", o.auth)
	}
	b.WriteString("User-Agent: test-ua\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	text := b.String()
	if o.raw != nil {
		text = o.raw(text)
	}
	return text
}

func parseRequest(t *testing.T, text, source string) *sip.Request {
	t.Helper()
	msg, err := sip.ParseMessage([]byte(text))
	if err != nil {
		t.Fatalf("parse test request: %v\n%s", err, text)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("not a request")
	}
	if source == "" {
		source = "203.0.113.5:40000"
	}
	req.SetSource(source)
	req.SetTransport("UDP")
	return req
}

// do runs HandleRegister and returns its single response.
func (h *harness) do(req *sip.Request) *sip.Response {
	h.t.Helper()
	tx := &fakeTx{}
	h.r.HandleRegister(req, tx)
	if len(tx.responses) != 1 {
		h.t.Fatalf("got %d responses, want exactly 1", len(tx.responses))
	}
	return tx.responses[0]
}

// challenge sends an unauthenticated REGISTER and returns WWW-Authenticate.
func (h *harness) challenge() string {
	h.t.Helper()
	res := h.do(reg{}.build(h.t))
	if res.StatusCode != 401 {
		h.t.Fatalf("unauthenticated REGISTER got %d, want 401", res.StatusCode)
	}
	hdr := res.GetHeader("WWW-Authenticate")
	if hdr == nil {
		h.t.Fatal("401 without WWW-Authenticate")
	}
	return hdr.Value()
}

// answer computes credentials for a challenge the way a UA would.
func answer(t *testing.T, chal, method, uri, user, pass string, qop bool) string {
	t.Helper()
	c, err := digest.ParseChallenge(chal)
	if err != nil {
		t.Fatalf("parse challenge %q: %v", chal, err)
	}
	if !qop {
		c.QOP = nil
	}
	cred, err := digest.Digest(c, digest.Options{Method: method, URI: uri, Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// register performs challenge + authenticated REGISTER for o (default user
// alice with her password) and returns the final response.
func (h *harness) register(o reg) *sip.Response {
	h.t.Helper()
	user := o.to
	if user == "" {
		user = "alice"
	}
	if o.auth == "" {
		ruri := o.ruri
		if ruri == "" {
			ruri = "sip:" + testRealm
		}
		o.auth = answer(h.t, h.challenge(), "REGISTER", ruri, user, h.creds.users[user], true)
	}
	if o.cseq == 0 {
		h.seq++
		o.cseq = uint32(h.seq + 1)
	}
	return h.do(o.build(h.t))
}

// contactExpires maps Contact URI → expires param of a 200 OK.
func contactExpires(t *testing.T, res *sip.Response) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, hdr := range res.GetHeaders("Contact") {
		c, ok := hdr.(*sip.ContactHeader)
		if !ok {
			t.Fatalf("contact header type %T", hdr)
		}
		e, _ := c.Params.Get("expires")
		out[c.Address.String()] = e
	}
	return out
}

var errStore = errors.New("store down")

// panickingStore panics on every lookup.
type panickingStore struct{}

func (panickingStore) Password(context.Context, string) (string, bool, error) {
	panic("boom")
}

func TestMain(m *testing.M) {
	// sipgo's transport layer logs harmless teardown warnings via its
	// package-level logger; keep test output clean.
	sip.SetDefaultLogger(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}
