//go:build unix

package testpeer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeACS is a minimal HTTPS stand-in for the Call Automation REST API: it
// verifies the HMAC signature the way the server must (WIRE.md §2.1) and
// serves a JWKS for callback tokens.
type fakeACS struct {
	srv    *httptest.Server
	key    string
	caFile string
	rsa    *rsa.PrivateKey
	kid    string

	mu       sync.Mutex
	requests []fakeRequest
}

type fakeRequest struct {
	Method, URI string
	Header      http.Header
	Body        string
	HMACError   string
}

func newFakeACS(t *testing.T) *fakeACS {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeACS{key: base64.StdEncoding.EncodeToString([]byte("super-secret-test-key-0123456789")), rsa: k, kid: "kid-1"}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(f.caFile, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeACS) endpoint() string { return f.srv.URL + "/" }
func (f *fakeACS) jwksURL() string  { return f.srv.URL + "/calling/keys" }

func (f *fakeACS) verify(r *http.Request, body []byte) string {
	sum := sha256.Sum256(body)
	hash := base64.StdEncoding.EncodeToString(sum[:])
	if r.Header.Get("x-ms-content-sha256") != hash {
		return "content hash mismatch"
	}
	date := r.Header.Get("x-ms-date")
	ts, err := http.ParseTime(date)
	if err != nil || time.Since(ts).Abs() > 15*time.Minute {
		return "bad x-ms-date"
	}
	sig, ok := strings.CutPrefix(r.Header.Get("Authorization"), "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=")
	if !ok {
		return "no HMAC authorization"
	}
	keyBytes, _ := base64.StdEncoding.DecodeString(f.key)
	mac := hmac.New(sha256.New, keyBytes)
	fmt.Fprintf(mac, "%s\n%s\n%s;%s;%s", r.Method, r.RequestURI, date, r.Host, hash)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return "bad signature"
	}
	return ""
}

func (f *fakeACS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	reply := func(status int, v any) {
		if v != nil {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		if v != nil {
			json.NewEncoder(w).Encode(v)
		}
	}
	if r.URL.Path == "/calling/keys" {
		pub := f.rsa.PublicKey
		reply(200, map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": f.kid, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
		return
	}
	fr := fakeRequest{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: string(body), HMACError: f.verify(r, body)}
	f.mu.Lock()
	f.requests = append(f.requests, fr)
	f.mu.Unlock()
	if fr.HMACError != "" {
		reply(401, map[string]any{"error": map[string]string{"code": "Unauthorized", "message": fr.HMACError}})
		return
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/calling/callConnections":
		var req map[string]any
		json.Unmarshal(body, &req)
		reply(201, map[string]any{
			"callConnectionId": "cc-go-1", "serverCallId": "srv-1", "targets": req["targets"],
			"callConnectionState": "connecting", "callbackUri": req["callbackUri"],
		})
	case r.Method == "GET" && r.URL.Path == "/calling/callConnections/gone":
		reply(404, map[string]any{"error": map[string]string{"code": "8522", "message": "Call not found"}})
	case r.Method == "DELETE":
		reply(204, nil)
	default:
		reply(404, map[string]any{"error": map[string]string{"code": "NotFound", "message": r.Method + " " + r.URL.Path}})
	}
}

func (f *fakeACS) lastRequest() fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

// jwt signs claims with the fake's RS256 key.
func (f *fakeACS) jwt(t *testing.T, claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	data := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": f.kid}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(data))
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.rsa, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return data + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func postJSON(t *testing.T, url string, body any, header map[string]string) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestNodeAppAgainstFakeACS(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	acs := newFakeACS(t)
	app := StartNodeApp(t, NodeAppOptions{
		Endpoint: acs.endpoint(), AccessKey: acs.key, CAFile: acs.caFile, JWKSURL: acs.jwksURL(),
	})

	// createCall through the SDK: signed, trusted via NODE_EXTRA_CA_CERTS
	res := app.MustOp(ctx, "createCall", map[string]any{
		"target": "4:+15551234567", "callbackUrl": app.CallbackURL("call1"),
		"sourceCallerIdNumber": "+15550001111", "operationContext": "op-1",
	})
	var props struct {
		CallConnectionID   string `json:"callConnectionId"`
		TargetParticipants []struct {
			RawID string `json:"rawId"`
		} `json:"targetParticipants"`
	}
	if err := json.Unmarshal(res, &props); err != nil || props.CallConnectionID != "cc-go-1" ||
		len(props.TargetParticipants) != 1 || props.TargetParticipants[0].RawID != "4:+15551234567" {
		t.Fatalf("createCall result %s (%v)", res, err)
	}
	req := acs.lastRequest()
	if req.HMACError != "" || !strings.HasPrefix(req.URI, "/calling/callConnections?api-version=") {
		t.Fatalf("createCall request %+v", req)
	}
	var body map[string]any
	json.Unmarshal([]byte(req.Body), &body)
	if body["callbackUri"] != app.CallbackURL("call1") || body["operationContext"] != "op-1" {
		t.Errorf("createCall body %s", req.Body)
	}

	// RestError mapping
	r, err := app.Op(ctx, "getCallConnectionProperties", map[string]any{"callConnectionId": "gone"})
	if err != nil || r.OK || r.Error.StatusCode != 404 || r.Error.Code != "8522" || r.Error.Message != "Call not found" {
		t.Fatalf("404 op = %+v, %v", r.Error, err)
	}
	// hand-signed raw requests: good, and tampered
	r, err = app.Op(ctx, "raw", map[string]any{"method": "DELETE", "path": "/calling/callConnections/x?api-version=2026-03-12"})
	var raw struct {
		Status int `json:"status"`
	}
	if err != nil || !r.OK || r.Decode(&raw) != nil || raw.Status != 204 {
		t.Fatalf("raw = %+v %s, %v", r, r.Result, err)
	}
	r, _ = app.Op(ctx, "raw", map[string]any{"method": "POST", "path": "/calling/callConnections?api-version=2026-03-12", "body": "{", "tamper": "signature"})
	if r.Decode(&raw); raw.Status != 401 || acs.lastRequest().HMACError != "bad signature" {
		t.Fatalf("tampered raw: status %d, server saw %q", raw.Status, acs.lastRequest().HMACError)
	}

	// a callback with a valid JWT, one without
	now := time.Now().Unix()
	ev := func(typ string) []map[string]any {
		return []map[string]any{{
			"id": "e-" + typ, "source": "calling/callConnections/cc-go-1", "type": "Microsoft.Communication." + typ,
			"specversion": "1.0", "datacontenttype": "application/json", "time": time.Now().UTC().Format(time.RFC3339Nano),
			"subject": "calling/callConnections/cc-go-1",
			"data": map[string]any{"callConnectionId": "cc-go-1", "serverCallId": "srv-1", "correlationId": "c-1", "operationContext": "op-1",
				"resultInformation": map[string]any{"code": 200, "subCode": 0, "message": ""}},
		}}
	}
	tok := acs.jwt(t, map[string]any{"iss": "https://sb.test", "aud": "res-1", "iat": now, "exp": now + 300})
	if resp := postJSON(t, app.CallbackURL("call1"), ev("CallConnected"), map[string]string{"Authorization": "Bearer " + tok}); resp.StatusCode != 200 {
		t.Fatalf("callback status %d", resp.StatusCode)
	}
	postJSON(t, app.CallbackURL("call1"), ev("CallDisconnected"), nil)
	got, err := app.WaitKind(ctx, 0, "CallConnected")
	if err != nil {
		t.Fatal(err)
	}
	if !got.JWTValid || got.JWTClaims["aud"] != "res-1" || got.CallConnectionID() != "cc-go-1" || got.OperationContext() != "op-1" || got.Path != "/callbacks/call1" {
		t.Errorf("CallConnected record %+v", got)
	}
	disc, err := app.WaitKind(ctx, got.Seq, "CallDisconnected")
	if err != nil {
		t.Fatal(err)
	}
	if disc.JWTValid || disc.JWTError != "no Authorization header" {
		t.Errorf("CallDisconnected JWT %v %q", disc.JWTValid, disc.JWTError)
	}

	// Event Grid validation handshake
	resp := postJSON(t, app.EventGridURL(), []map[string]any{{
		"id": "v", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent", "subject": "", "topic": "/t",
		"data": map[string]any{"validationCode": "code-123"}, "eventTime": time.Now().UTC().Format(time.RFC3339), "dataVersion": "1", "metadataVersion": "1",
	}}, map[string]string{"aeg-event-type": "SubscriptionValidation"})
	if resp.StatusCode != 200 {
		t.Fatalf("validation status %d", resp.StatusCode)
	}
	val, err := app.WaitKind(ctx, 0, "SubscriptionValidation")
	if err != nil || val.ValidationCode != "code-123" || val.Header("aeg-event-type") != "SubscriptionValidation" {
		t.Fatalf("validation record %+v, %v", val, err)
	}

	// hang mode: recorded as hung, never answered
	if err := app.SetMode("/callbacks", "hang"); err != nil {
		t.Fatal(err)
	}
	seq, _ := app.LastSeq(ctx)
	hc := &http.Client{Timeout: 300 * time.Millisecond}
	b, _ := json.Marshal(ev("PlayCompleted"))
	if _, err := hc.Post(app.CallbackURL("call1"), "application/json", bytes.NewReader(b)); err == nil {
		t.Error("hung webhook answered")
	}
	hung, err := app.WaitKind(ctx, seq, "PlayCompleted")
	if err != nil || !hung.Hung {
		t.Fatalf("hung record %+v, %v", hung, err)
	}

	// restart: records survive, seq continues, modes reset
	before, _ := app.Events(ctx, 0)
	app.Restart()
	after, err := app.Events(ctx, 0)
	if err != nil || len(after) != len(before) {
		t.Fatalf("after restart %d events (%v), before %d", len(after), err, len(before))
	}
	postJSON(t, app.CallbackURL("call1"), ev("PlayStarted"), nil)
	ps, err := app.WaitKind(ctx, 0, "PlayStarted")
	if err != nil || ps.Seq != before[len(before)-1].Seq+1 || ps.Hung {
		t.Fatalf("after restart: %+v, %v", ps, err)
	}
}

// The Node-side self-test (test/node/selftest.mjs): app.mjs against a fake
// ACS written in JavaScript, with an openssl-made certificate.
func TestNodeSelfTest(t *testing.T) {
	t.Parallel()
	node := findBinary(t, "TEST_NODE", "node", "apt-get install nodejs, node >= 20")
	findBinary(t, "TEST_OPENSSL", "openssl", "apt-get install openssl")
	dir := filepath.Join(mustRepoRoot(t), "test", "node")
	ensureNodeModules(t, dir)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "selftest.mjs")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test selftest.mjs: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "# fail 0") {
		t.Fatalf("unexpected output:\n%s", out)
	}
}
