package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/auth"
)

const v = "?api-version=2026-03-12"

// errorBody decodes the ACS error shape and fails if it is not that shape.
func errorBody(t *testing.T, b []byte) (code, message string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not an ACS error body: %s", b)
	}
	return e.Error.Code, e.Error.Message
}

func TestAPIBadInput(t *testing.T) {
	s := startServer(t, serverOptions{})
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"malformed JSON", "POST", "/calling/callConnections" + v, `{"targets":[`, 400, "BadRequest"},
		{"wrong type", "POST", "/calling/callConnections" + v, `{"targets":"4:+1"}`, 400, "BadRequest"},
		{"missing targets", "POST", "/calling/callConnections" + v, `{"callbackUri":"https://a.example/cb"}`, 400, "BadRequest"},
		{"missing callback", "POST", "/calling/callConnections" + v, `{"targets":[{"rawId":"4:+15551230000"}],"sourceCallerIdNumber":{"value":"+14255550100"}}`, 400, "BadRequest"},
		{"bad callback", "POST", "/calling/callConnections" + v, `{"targets":[{"rawId":"4:+15551230000"}],"callbackUri":"ftp://x"}`, 400, "BadRequest"},
		{"empty answer", "POST", "/calling/callConnections:answer" + v, ``, 400, "BadRequest"},
		{"forged context", "POST", "/calling/callConnections:answer" + v, `{"incomingCallContext":"abc.def","callbackUri":"https://a.example/cb"}`, 400, "BadRequest"},
		{"bad reject reason", "POST", "/calling/callConnections:reject" + v, `{"incomingCallContext":"abc.def","callRejectReason":"maybe"}`, 400, "BadRequest"},
		{"unknown call", "GET", "/calling/callConnections/00000000-0000-0000-0000-000000000000" + v, ``, 404, "NotFound"},
		{"unknown call hangup", "DELETE", "/calling/callConnections/nope" + v, ``, 404, "NotFound"},
		{"unknown call participants", "GET", "/calling/callConnections/nope/participants" + v, ``, 404, "NotFound"},
		{"unknown participant", "GET", "/calling/callConnections/nope/participants/8%3Aacs%3Ae2eres_x" + v, ``, 404, "NotFound"},
		{"missing api-version", "GET", "/calling/callConnections/nope", ``, 400, "MissingApiVersionParameter"},
		{"unknown api-version", "GET", "/calling/callConnections/nope?api-version=1999-01-01", ``, 400, "UnsupportedApiVersion"},
		{"unknown path", "GET", "/calling/whatever" + v, ``, 404, "NotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, b := s.do(c.method, c.path, []byte(c.body), nil)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, b)
			}
			if code, _ := errorBody(t, b); code != c.code {
				t.Fatalf("code %q, want %q", code, c.code)
			}
		})
	}
}

func TestAPIAuthentication(t *testing.T) {
	s := startServer(t, serverOptions{})
	path := "/calling/callConnections/nope" + v
	send := func(mutate func(r *http.Request)) (int, []byte) {
		body := []byte(`{"x":1}`)
		req, _ := http.NewRequest("POST", s.APIURL+path, bytes.NewReader(body))
		for k, vals := range auth.Sign("POST", path, req.URL.Host, body, accessKey, time.Now()) {
			req.Header[k] = vals
		}
		mutate(req)
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	cases := map[string]func(r *http.Request){
		"bad signature": func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=", "Signature=AAAA", 1))
		},
		"stale date": func(r *http.Request) {
			old := time.Now().Add(-20 * time.Minute)
			for k, vals := range auth.Sign("POST", path, r.URL.Host, []byte(`{"x":1}`), accessKey, old) {
				r.Header[k] = vals
			}
		},
		"tampered body": func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"x":2}`))
		},
		"no authorization": func(r *http.Request) { r.Header.Del("Authorization") },
		"wrong key": func(r *http.Request) {
			for k, vals := range auth.Sign("POST", path, r.URL.Host, []byte(`{"x":1}`), "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXk=", time.Now()) {
				r.Header[k] = vals
			}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			status, b := send(mutate)
			if status != 401 {
				t.Fatalf("status %d, want 401: %s", status, b)
			}
			errorBody(t, b)
		})
	}
	// The same request signed properly passes authentication (and gets the
	// operation's own error).
	status, b := send(func(*http.Request) {})
	if status == 401 {
		t.Fatalf("valid signature refused: %s", b)
	}
	// The keys to verify callbacks are public.
	res, err := s.client.Get(s.APIURL + "/calling/keys")
	if err != nil {
		t.Fatal(err)
	}
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	json.NewDecoder(res.Body).Decode(&jwks)
	res.Body.Close()
	if len(jwks.Keys) != 1 || jwks.Keys[0]["kty"] != "RSA" || jwks.Keys[0]["kid"] == "" {
		t.Fatalf("jwks = %+v", jwks)
	}
}

// Garbage on the SIP port and a malformed INVITE do not bring the server down.
func TestSIPGarbage(t *testing.T) {
	s := startServer(t, serverOptions{})
	c, err := net.Dial("udp", s.sipAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	junk := [][]byte{
		[]byte("\x00\x01\x02garbage"),
		[]byte("INVITE sip:x SIP/2.0\r\n\r\n"),
		[]byte("INVITE sip:+14255550100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:+14255550100@127.0.0.1>\r\nCall-ID: g1\r\nCSeq: 1 INVITE\r\nContent-Length: 99999\r\n\r\nv=0"),
		bytes.Repeat([]byte("A"), 9000),
		[]byte("SIP/2.0 200 OK\r\n\r\n"),
	}
	for _, j := range junk {
		c.Write(j)
	}
	// A well-formed request still gets an answer afterwards.
	opts := "OPTIONS sip:switchboard@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bKopt1\r\n" +
		"From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:switchboard@127.0.0.1>\r\nCall-ID: opt-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	c.Write([]byte(opts))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no answer to OPTIONS after garbage: %v", err)
		}
		if bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200")) && bytes.Contains(buf[:n], []byte("opt-1")) {
			break
		}
	}
	if status, _ := s.do("GET", "/healthz", nil, nil); status != 200 {
		t.Fatalf("healthz = %d", status)
	}
}
