package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/auth"
	"github.com/switchboard-oss/switchboard/internal/call"
	"github.com/switchboard-oss/switchboard/internal/media"
)

const benchKey = "c2VjcmV0LWtleS1mb3ItYmVuY2htYXJrcy0wMTIzNDU2Nzg5"

// ringing is a Signaling whose calls ring until canceled.
type ringing struct{}

func (ringing) Dial(ctx context.Context, _ call.DialRequest) (call.Leg, []byte, error) {
	<-ctx.Done()
	return nil, nil, ctx.Err()
}

// benchServer is the API in front of a real call manager and media engine.
func benchServer(b *testing.B) (http.Handler, *call.Manager) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := media.NewEngine(media.Config{BindIP: "127.0.0.1"}, log)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	go eng.Run(ctx)
	m := call.NewManager(call.Config{RingTimeout: time.Minute, DialTimeout: time.Minute},
		call.Deps{Log: log, Media: eng, Signaling: ringing{}, Events: nopSink{}})
	v, err := auth.NewVerifier([]string{benchKey}, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	return New(Deps{Log: log, Calls: m, Verifier: v, PublicURL: "http://api.test"}).Handler(), m
}

type nopSink struct{}

func (nopSink) Callback(context.Context, string, string, string, any) error { return nil }
func (nopSink) Subscription(context.Context, string, string, acs.Identifier, string, any, string, time.Time) error {
	return nil
}
func (nopSink) Expire(string)                 {}
func (nopSink) Automated(acs.Identifier) bool { return false }

// signed builds an HMAC-signed request as the SDKs send it.
func signed(method, uri string, body []byte) *http.Request {
	r := httptest.NewRequest(method, uri, bytes.NewReader(body))
	r.Host = "api.test"
	for k, vs := range auth.Sign(method, uri, "api.test", body, benchKey, time.Now()) {
		r.Header[k] = vs
	}
	r.Header.Set("Content-Type", "application/json")
	return r
}

// The path every app request takes: HMAC and body-hash check, routing, the
// call's goroutine, and the JSON answer (GET of a live call's properties).
func BenchmarkAPIGetCall(b *testing.B) {
	h, _ := benchServer(b)
	body := []byte(`{"targets":[{"kind":"phoneNumber","phoneNumber":{"value":"+15550100"}}],"sourceCallerIdNumber":{"value":"+15550199"},"callbackUri":"http://app.test/cb"}`)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, signed("POST", "/calling/callConnections?api-version=2026-03-12", body))
	if w.Code != 201 {
		b.Fatalf("createCall: %d %s", w.Code, w.Body)
	}
	var props struct {
		CallConnectionID string `json:"callConnectionId"`
	}
	json.Unmarshal(w.Body.Bytes(), &props)
	uri := "/calling/callConnections/" + props.CallConnectionID + "?api-version=2026-03-12"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, signed("GET", uri, nil))
		if w.Code != 200 {
			b.Fatalf("get: %d %s", w.Code, w.Body)
		}
	}
}

// A POST with a JSON body that the manager refuses: signing, body hash,
// decoding and the ACS error shape.
func BenchmarkAPIAnswerRefused(b *testing.B) {
	h, _ := benchServer(b)
	body := []byte(`{"incomingCallContext":"eyJzIjoieCIsImUiOjF9.AAAA","callbackUri":"http://app.test/cb"}`)
	uri := "/calling/callConnections:answer?api-version=2026-03-12"
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, signed("POST", uri, body))
		if w.Code != 400 {
			b.Fatalf("answer: %d %s", w.Code, w.Body)
		}
	}
}
