package auth

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Test vectors computed with the Node ACS SDK signing code.
const (
	testKey  = "c3VwZXItc2VjcmV0LXRlc3Qta2V5LTAxMjM0NTY3ODk=" // base64("super-secret-test-key-0123456789")
	otherKey = "b3RoZXItc2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ=" // base64("other-secret-key-for-tests-01234")
	testDate = "Mon, 01 Jan 2024 00:00:00 GMT"

	v1Method = "POST"
	v1Host   = "contoso.communication.azure.com"
	v1URI    = "/calling/callConnections/421f0b00-1234-4e6a-9b6f-0123456789ab:play?api-version=2026-03-12"
	v1Body   = `{"playSources":[{"kind":"file","file":{"uri":"https://files.contoso.com/hello.wav"}}],"playTo":[],"playOptions":{"loop":false},"operationContext":"ctx"}`
	v1Hash   = "7woX3uHxkGsfpeiJV3HdEbssjeBvBeZNvq6c0W+v0jw="
	v1Sig    = "EN1rkv4INIkZRbwreBs9NaKc06JKE2w5eOPMcUUwoCA="

	v2Method = "GET"
	v2Host   = "localhost:8080"
	v2URI    = "/calling/callConnections/cc1/participants/8%3Aacs%3Ares_user2?api-version=2026-03-12"
	v2Hash   = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	v2Sig    = "DVGAUly4x5tOMzYMfc9WVFTG+6JKmOdybg+Rau4uEfs="
)

var vectorTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func newTestVerifier(t *testing.T, now time.Time, keys ...string) *Verifier {
	t.Helper()
	if len(keys) == 0 {
		keys = []string{testKey}
	}
	v, err := NewVerifier(keys, 0, fixedClock(now))
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func vectorHeader(date, hash, sig string) http.Header {
	h := http.Header{}
	h.Set("x-ms-date", date)
	h.Set("x-ms-content-sha256", hash)
	h.Set("Authorization", "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="+sig)
	return h
}

type request struct {
	method, uri, host string
	header            http.Header
	body              []byte
}

func vector1() request {
	return request{v1Method, v1URI, v1Host, vectorHeader(testDate, v1Hash, v1Sig), []byte(v1Body)}
}

func vector2() request {
	return request{v2Method, v2URI, v2Host, vectorHeader(testDate, v2Hash, v2Sig), nil}
}

func TestWireVectors(t *testing.T) {
	v := newTestVerifier(t, vectorTime)
	for name, r := range map[string]request{"vector1 POST play": vector1(), "vector2 GET participant": vector2()} {
		t.Run(name, func(t *testing.T) {
			if got := ContentHash(r.body); got != r.header.Get("x-ms-content-sha256") {
				t.Fatalf("ContentHash = %s, want %s", got, r.header.Get("x-ms-content-sha256"))
			}
			if err := v.Verify(r.method, r.uri, r.host, r.header, r.body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// Sign must reproduce the vector exactly.
			signed := Sign(r.method, r.uri, r.host, r.body, testKey, vectorTime)
			for _, k := range []string{"x-ms-date", "x-ms-content-sha256", "Authorization"} {
				if got, want := signed.Get(k), r.header.Get(k); got != want {
					t.Errorf("Sign %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	mod := func(base request, f func(r *request)) request {
		r := base
		r.header = base.header.Clone()
		f(&r)
		return r
	}
	tests := []struct {
		name string
		req  request
		now  time.Time
		want error
	}{
		{"tampered body", mod(vector1(), func(r *request) { r.body = bytes.Replace(r.body, []byte("hello"), []byte("hellO"), 1) }), vectorTime, ErrBodyHashMismatch},
		{"tampered body with matching hash", mod(vector1(), func(r *request) {
			r.body = []byte(`{}`)
			r.header.Set("x-ms-content-sha256", ContentHash(r.body))
		}), vectorTime, ErrBadSignature},
		{"tampered path", mod(vector1(), func(r *request) { r.uri = strings.Replace(r.uri, ":play", ":hold", 1) }), vectorTime, ErrBadSignature},
		{"re-encoded path", mod(vector2(), func(r *request) { r.uri = strings.ReplaceAll(r.uri, "%3A", ":") }), vectorTime, ErrBadSignature},
		{"other host", mod(vector2(), func(r *request) { r.host = "localhost:8081" }), vectorTime, ErrBadSignature},
		{"other method", mod(vector2(), func(r *request) { r.method = "DELETE" }), vectorTime, ErrBadSignature},
		{"lower-case method is upper-cased", mod(vector2(), func(r *request) { r.method = "get" }), vectorTime, nil},
		{"tampered date", mod(vector2(), func(r *request) { r.header.Set("x-ms-date", "Mon, 01 Jan 2024 00:00:01 GMT") }), vectorTime, ErrBadSignature},
		{"stale date", vector1(), vectorTime.Add(16 * time.Minute), ErrStaleDate},
		{"future date", vector1(), vectorTime.Add(-16 * time.Minute), ErrStaleDate},
		{"within skew past", vector1(), vectorTime.Add(15 * time.Minute), nil},
		{"within skew future", vector1(), vectorTime.Add(-15 * time.Minute), nil},
		{"missing Authorization", mod(vector1(), func(r *request) { r.header.Del("Authorization") }), vectorTime, ErrMissingAuth},
		{"missing x-ms-date", mod(vector1(), func(r *request) { r.header.Del("x-ms-date") }), vectorTime, ErrMissingAuth},
		{"missing content hash", mod(vector1(), func(r *request) { r.header.Del("x-ms-content-sha256") }), vectorTime, ErrMissingAuth},
		{"missing host", mod(vector1(), func(r *request) { r.host = "" }), vectorTime, ErrMissingAuth},
		{"Date fallback", mod(vector1(), func(r *request) {
			r.header.Set("Date", r.header.Get("x-ms-date"))
			r.header.Del("x-ms-date")
		}), vectorTime, nil},
		{"unparseable date", mod(vector1(), func(r *request) { r.header.Set("x-ms-date", "yesterday") }), vectorTime, ErrBadAuthHeader},
		{"bearer scheme", mod(vector1(), func(r *request) { r.header.Set("Authorization", "Bearer eyJ0eXAi") }), vectorTime, ErrBadAuthHeader},
		{"no signature", mod(vector1(), func(r *request) {
			r.header.Set("Authorization", "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256")
		}), vectorTime, ErrBadAuthHeader},
		{"signature not base64", mod(vector1(), func(r *request) {
			r.header.Set("Authorization", "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=!!!")
		}), vectorTime, ErrBadAuthHeader},
		{"signed headers omit host", mod(vector1(), func(r *request) {
			r.header.Set("Authorization", "HMAC-SHA256 SignedHeaders=x-ms-date;x-ms-content-sha256&Signature="+v1Sig)
		}), vectorTime, ErrBadAuthHeader},
		{"wrong signature", mod(vector1(), func(r *request) {
			r.header.Set("Authorization", "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="+v2Sig)
		}), vectorTime, ErrBadSignature},
	}
	v := newTestVerifier(t, time.Time{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.Now = fixedClock(tt.now)
			err := v.Verify(tt.req.method, tt.req.uri, tt.req.host, tt.req.header, tt.req.body)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		ok   bool
	}{
		{"wrong key only", []string{otherKey}, false},
		{"primary matches", []string{testKey, otherKey}, true},
		{"secondary matches", []string{otherKey, testKey}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, vectorTime, tt.keys...)
			r := vector1()
			err := v.Verify(r.method, r.uri, r.host, r.header, r.body)
			if tt.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify error = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestNewVerifier(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		ok   bool
	}{
		{"none", nil, false},
		{"bad base64", []string{"not base64!"}, false},
		{"empty", []string{""}, false},
		{"second bad", []string{testKey, "%%%"}, false},
		{"good", []string{testKey}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.keys, 0, nil)
			if (err == nil) != tt.ok {
				t.Fatalf("NewVerifier err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (v.MaxSkew != DefaultMaxSkew || v.Now == nil || v.MaxBodyBytes != DefaultMaxBodyBytes) {
				t.Fatalf("defaults not applied: %+v", v)
			}
		})
	}
}

func TestSignRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 12, 9, 30, 15, 123456789, time.FixedZone("CET", 3600))
	v := newTestVerifier(t, now.Add(2*time.Minute), otherKey)
	tests := []struct {
		method, uri, host string
		body              []byte
	}{
		{"POST", "/calling/callConnections?api-version=2026-03-12", "127.0.0.1:8443", []byte(`{"targets":[]}`)},
		{"DELETE", "/calling/callConnections/abc?api-version=2026-03-12", "example.org", nil},
		{"GET", "/calling/callConnections/x/participants/4%3A%2B14255550123?api-version=2026-03-12", "h:1", []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.uri, func(t *testing.T) {
			h := Sign(tt.method, tt.uri, tt.host, tt.body, otherKey, now)
			if got, want := h.Get("x-ms-date"), "Thu, 12 Mar 2026 08:30:15 GMT"; got != want {
				t.Fatalf("x-ms-date = %q, want %q", got, want)
			}
			if err := v.Verify(tt.method, tt.uri, tt.host, h, tt.body); err != nil {
				t.Fatalf("Verify(Sign(...)): %v", err)
			}
			if err := v.Verify(tt.method, tt.uri, tt.host, h, append(tt.body, ' ')); !errors.Is(err, ErrBodyHashMismatch) {
				t.Fatalf("Verify with extra byte = %v, want ErrBodyHashMismatch", err)
			}
		})
	}
}

func TestParseAuthorization(t *testing.T) {
	const sig = "EN1rkv4INIkZRbwreBs9NaKc06JKE2w5eOPMcUUwoCA="
	tests := []struct {
		in      string
		ok      bool
		headers string
	}{
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + sig, true, "x-ms-date;host;x-ms-content-sha256"},
		{"hmac-sha256 signature=" + sig + "&signedheaders=date;host;x-ms-content-sha256", true, "date;host;x-ms-content-sha256"},
		{"  HMAC-SHA256   SignedHeaders = Host;X-MS-Date;x-ms-content-sha256 & Signature = " + sig + " ", true, "host;x-ms-date;x-ms-content-sha256"},
		{"", false, ""},
		{"HMAC-SHA256", false, ""},
		{"HMAC-SHA1 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + sig, false, ""},
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256", false, ""},
		{"HMAC-SHA256 Signature=" + sig, false, ""},
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + sig + "&Signature=" + sig, false, ""},
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + sig, false, ""},
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;host;x-ms-content-sha256&Signature=" + sig, false, ""},
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256;user-agent&Signature=" + sig, false, ""},
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=AAAA", false, ""},
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature", false, ""},
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + sig + "&Extra=1", false, ""},
		{"HMAC-SHA256 SignedHeaders=&Signature=" + sig, false, ""},
		{"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + sig + strings.Repeat(" ", maxAuthHeaderLen), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ah, err := parseAuthorization(tt.in)
			if !tt.ok {
				if !errors.Is(err, ErrBadAuthHeader) {
					t.Fatalf("err = %v, want ErrBadAuthHeader", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := strings.Join(ah.signedHeaders, ";"); got != tt.headers {
				t.Fatalf("signed headers = %q, want %q", got, tt.headers)
			}
			if len(ah.signature) != 32 {
				t.Fatalf("signature length %d", len(ah.signature))
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	var gotBody []byte
	var called bool
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	var gotErr error
	onError := func(w http.ResponseWriter, r *http.Request, err error) {
		gotErr = err
		w.WriteHeader(StatusCode(err))
	}
	v := newTestVerifier(t, vectorTime)
	v.MaxBodyBytes = 1024
	h := v.Middleware(next, onError)

	newReq := func(method, uri, host string, body []byte, hdr http.Header) *http.Request {
		r := httptest.NewRequest(method, "http://"+host+uri, bytes.NewReader(body))
		r.RequestURI = uri
		r.Host = host
		for k, vs := range hdr {
			r.Header[k] = vs
		}
		return r
	}

	tests := []struct {
		name     string
		req      func() *http.Request
		wantCode int
		wantErr  error
	}{
		{"vector1 passes and body restored", func() *http.Request {
			r := vector1()
			return newReq(r.method, r.uri, r.host, r.body, r.header)
		}, http.StatusAccepted, nil},
		{"vector2 passes", func() *http.Request {
			r := vector2()
			return newReq(r.method, r.uri, r.host, r.body, r.header)
		}, http.StatusAccepted, nil},
		{"tampered body", func() *http.Request {
			r := vector1()
			return newReq(r.method, r.uri, r.host, append([]byte(" "), r.body...), r.header)
		}, http.StatusUnauthorized, ErrBodyHashMismatch},
		{"too large", func() *http.Request {
			body := bytes.Repeat([]byte("a"), 1025)
			return newReq("POST", "/x", "h", body, Sign("POST", "/x", "h", body, testKey, vectorTime))
		}, http.StatusRequestEntityTooLarge, ErrBodyTooLarge},
		{"too large without content-length", func() *http.Request {
			body := bytes.Repeat([]byte("a"), 4096)
			r := newReq("POST", "/x", "h", nil, Sign("POST", "/x", "h", body, testKey, vectorTime))
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = -1
			return r
		}, http.StatusRequestEntityTooLarge, ErrBodyTooLarge},
		{"exactly at limit", func() *http.Request {
			body := bytes.Repeat([]byte("a"), 1024)
			return newReq("POST", "/x", "h", body, Sign("POST", "/x", "h", body, testKey, vectorTime))
		}, http.StatusAccepted, nil},
		{"unreadable body", func() *http.Request {
			r := newReq("POST", "/x", "h", nil, Sign("POST", "/x", "h", nil, testKey, vectorTime))
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader("ab"), errReader{}))
			r.ContentLength = -1
			return r
		}, http.StatusBadRequest, ErrBodyUnreadable},
		{"x-ms-host is signed instead of Host", func() *http.Request {
			hdr := Sign("GET", "/v1/objects/doc/content/audio", "contoso.communication.azure.com", nil, testKey, vectorTime)
			hdr.Set("x-ms-host", "contoso.communication.azure.com")
			return newReq("GET", "/v1/objects/doc/content/audio", "storage.example", nil, hdr)
		}, http.StatusAccepted, nil},
		{"no auth", func() *http.Request {
			return newReq("GET", "/x", "h", nil, nil)
		}, http.StatusUnauthorized, ErrMissingAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called, gotErr, gotBody = false, nil, nil
			req := tt.req()
			var want []byte
			if tt.wantErr == nil && req.Body != nil {
				want, _ = io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(want))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d (err %v)", rec.Code, tt.wantCode, gotErr)
			}
			if tt.wantErr != nil {
				if called || !errors.Is(gotErr, tt.wantErr) {
					t.Fatalf("called=%v err=%v, want err %v", called, gotErr, tt.wantErr)
				}
				return
			}
			if !called || !bytes.Equal(gotBody, want) {
				t.Fatalf("called=%v body=%q, want %q", called, gotBody, want)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// TestMiddlewareOverHTTP runs the middleware behind a real HTTP server so the
// request-target arrives exactly as the client sent it (percent-encoded).
func TestMiddlewareOverHTTP(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	v := newTestVerifier(t, now, otherKey, testKey)
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}), nil))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name     string
		key      string
		wantCode int
	}{
		{"secondary key", testKey, http.StatusOK},
		{"unknown key", "dW5rbm93bi1rZXk=", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri := "/calling/callConnections/cc1/participants/8%3Aacs%3Ares_user2?api-version=2026-03-12"
			body := []byte(`{"a":1}`)
			req, err := http.NewRequest("POST", srv.URL+uri, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range Sign("POST", uri, host, body, tt.key, now) {
				req.Header[k] = vs
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			got, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.wantCode {
				t.Fatalf("status = %d (%s), want %d", res.StatusCode, got, tt.wantCode)
			}
			if tt.wantCode == http.StatusOK && !bytes.Equal(got, body) {
				t.Fatalf("echoed body = %q", got)
			}
		})
	}
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{ErrMissingAuth, 401},
		{ErrBadAuthHeader, 401},
		{ErrBadSignature, 401},
		{ErrStaleDate, 401},
		{ErrBodyHashMismatch, 401},
		{ErrBodyTooLarge, 413},
		{ErrBodyUnreadable, 400},
	}
	for _, tt := range tests {
		if got := StatusCode(tt.err); got != tt.want {
			t.Errorf("StatusCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
