package registrar

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// startServer runs a sipgo UDP server on 127.0.0.1:0 with the registrar
// handling REGISTER and Authenticate guarding INVITE. It returns the
// listening address.
func startServer(t *testing.T, r *Registrar) string {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("switchboard-test"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(r.HandleRegister)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		user, ok := r.Authenticate(req, tx)
		if !ok {
			return
		}
		res := sip.NewResponseFromRequest(req, sip.StatusForbidden, "Authenticated as "+user, nil)
		tx.Respond(res)
	})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	readyFn := sipgo.ListenReadyFuncCtxValue(func(network, addr string) { ready <- addr })
	errc := make(chan error, 1)
	go func() {
		errc <- srv.ListenAndServe(context.WithValue(ctx, sipgo.ListenReadyCtxKey, readyFn), "udp", "127.0.0.1:0")
	}()
	t.Cleanup(func() {
		cancel()
		<-errc
		srv.Close()
		ua.Close()
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-errc:
		t.Fatalf("listen: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	return ""
}

func newClient(t *testing.T, user string) *sipgo.Client {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(user))
	if err != nil {
		t.Fatal(err)
	}
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		ua.Close()
	})
	return c
}

func newRegister(t *testing.T, addr, user, contact, expires string) *sip.Request {
	t.Helper()
	var ruri sip.Uri
	if err := sip.ParseUri("sip:"+addr, &ruri); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.REGISTER, ruri)
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: testRealm}, Params: sip.HeaderParams{{K: "tag", V: sip.GenerateTagN(8)}}})
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: testRealm}})
	req.AppendHeader(sip.NewHeader("Contact", contact))
	if expires != "" {
		req.AppendHeader(sip.NewHeader("Expires", expires))
	}
	req.SetTransport("UDP")
	return req
}

// TestSipgoClientRegister registers with sipgo's own digest client over real
// UDP, then unregisters.
func TestSipgoClientRegister(t *testing.T) {
	creds := newCreds()
	r := New(creds, testRealm, nil, nil, Options{})
	addr := startServer(t, r)
	client := newClient(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	req := newRegister(t, addr, "alice", "<sip:alice@127.0.0.1:5099>", "300")
	res, err := client.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 401 {
		t.Fatalf("first REGISTER got %d, want 401", res.StatusCode)
	}
	res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "alice-pass"})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("authenticated REGISTER got %d %s", res.StatusCode, res.Reason)
	}
	c := res.Contact()
	if c == nil || c.Address.Port != 5099 || c.Params.GetOr("expires", "") != "300" {
		t.Fatalf("200 OK Contact %v", c)
	}
	bs := r.Lookup("alice")
	if len(bs) != 1 {
		t.Fatalf("bindings %+v", bs)
	}
	host, port, err := net.SplitHostPort(bs[0].Source)
	if err != nil || host != "127.0.0.1" || port == "0" || bs[0].Transport != "UDP" {
		t.Fatalf("binding source %q transport %q", bs[0].Source, bs[0].Transport)
	}

	// Unregister with Contact: * and Expires: 0 (fresh transaction, new challenge).
	unreg := newRegister(t, addr, "alice", "*", "0")
	res, err = client.Do(ctx, unreg, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == 401 {
		res, err = client.DoDigestAuth(ctx, unreg, res, sipgo.DigestAuth{Username: "alice", Password: "alice-pass"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if res.StatusCode != 200 || len(r.Lookup("alice")) != 0 {
		t.Fatalf("unregister got %d, bindings %d", res.StatusCode, len(r.Lookup("alice")))
	}

	// Wrong password is rejected with a new challenge.
	bad := newRegister(t, addr, "alice", "<sip:alice@127.0.0.1:5099>", "")
	res, err = client.Do(ctx, bad, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		t.Fatal(err)
	}
	res, err = client.DoDigestAuth(ctx, bad, res, sipgo.DigestAuth{Username: "alice", Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 401 {
		t.Fatalf("wrong password got %d", res.StatusCode)
	}
}

// TestSipgoClientInviteProxyAuth exercises the 407 path with sipgo's client.
func TestSipgoClientInviteProxyAuth(t *testing.T) {
	r := New(newCreds(), testRealm, nil, nil, Options{})
	addr := startServer(t, r)
	client := newClient(t, "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var ruri sip.Uri
	if err := sip.ParseUri("sip:+15550100@"+addr, &ruri); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.INVITE, ruri)
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: testRealm}, Params: sip.HeaderParams{{K: "tag", V: "t1"}}})
	req.AppendHeader(sip.NewHeader("Contact", "<sip:bob@127.0.0.1:5098>"))
	req.SetTransport("UDP")
	res, err := client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 407 || res.GetHeader("Proxy-Authenticate") == nil {
		t.Fatalf("INVITE got %d", res.StatusCode)
	}
	res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "bob", Password: "bob-pass"})
	if err != nil {
		t.Fatal(err)
	}
	// The test handler answers 403 with the authenticated user in the reason.
	if res.StatusCode != 403 || res.Reason != "Authenticated as bob" {
		t.Fatalf("authenticated INVITE got %d %q", res.StatusCode, res.Reason)
	}
}

// TestRawUDP sends hand-written datagrams for error cases and checks the
// server answers (and keeps running).
func TestRawUDP(t *testing.T) {
	r := New(newCreds(), testRealm, nil, nil, Options{})
	addr := startServer(t, r)
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()

	base := func(branch, extra string) string {
		return "REGISTER sip:" + addr + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + branch + ";rport\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:alice@" + testRealm + ">;tag=raw\r\n" +
			"To: <sip:alice@" + testRealm + ">\r\n" +
			"Call-ID: raw-" + branch + "\r\n" +
			"CSeq: 1 REGISTER\r\n" +
			extra +
			"Content-Length: 0\r\n\r\n"
	}
	tests := []struct {
		name string
		msg  string
		want int
	}{
		{"no credentials", base("a1", "Contact: <sip:alice@"+local+">\r\n"), 401},
		{"broken digest", base("a2", "Contact: <sip:alice@"+local+">\r\nAuthorization: Digest username=\"alice\r\n"), 400},
		{"digest with garbage nonce", base("a3", "Contact: <sip:alice@"+local+">\r\nAuthorization: Digest username=\"alice\", realm=\""+testRealm+"\", nonce=\"zz\", uri=\"sip:"+addr+"\", response=\"00000000000000000000000000000000\"\r\n"), 401},
		{"wildcard with expires", base("a4", "Contact: *\r\nExpires: 10\r\n"), 401}, // auth comes first
	}
	buf := make([]byte, 65535)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := conn.Write([]byte(tt.msg)); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := sip.ParseMessage(buf[:n])
			if err != nil {
				t.Fatalf("parse response: %v\n%s", err, buf[:n])
			}
			res, ok := msg.(*sip.Response)
			if !ok || res.StatusCode != tt.want {
				t.Fatalf("got %s, want %d", strings.SplitN(string(buf[:n]), "\r\n", 2)[0], tt.want)
			}
			if via := res.Via(); via == nil || via.Params.GetOr("rport", "") == "" {
				t.Errorf("response Via lacks rport: %v", via)
			}
		})
	}
}
