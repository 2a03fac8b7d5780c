package tts

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/switchboard-oss/switchboard/internal/speech/provider"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// speechServer is an httptest OpenAI-compatible endpoint that records the
// requests it gets and answers with status and body.
type speechServer struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []speechRequest
	auth   []string
	paths  []string
	status int
	body   []byte
}

func newSpeechServer(t *testing.T, status int, body []byte) *speechServer {
	s := &speechServer{status: status, body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req speechRequest
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &req); err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		w.WriteHeader(s.status)
		w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func newProvider(t *testing.T, opts HTTPOptions) *HTTPProvider {
	t.Helper()
	h, err := NewHTTPProvider(opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHTTPProviderRequest(t *testing.T) {
	wav24k := streamingWAV(24000, tone(2400))
	tests := []struct {
		name string
		opts HTTPOptions
		base string // appended to the server URL
		r    Request
		want speechRequest
		auth string
	}{
		{
			name: "defaults, no key",
			r:    Request{Text: "  Hello there  "},
			want: speechRequest{Model: "tts-1", Input: "Hello there", Voice: "alloy", ResponseFormat: "wav"},
		},
		{
			name: "model, key and voice map",
			opts: HTTPOptions{APIKey: "sk-test", Model: "gpt-4o-mini-tts", DefaultVoice: "echo", VoiceMap: map[string]string{"en-US-JennyNeural": "nova"}},
			r:    Request{Text: "Hi", VoiceName: "en-US-JennyNeural"},
			want: speechRequest{Model: "gpt-4o-mini-tts", Input: "Hi", Voice: "nova", ResponseFormat: "wav"},
			auth: "Bearer sk-test",
		},
		{
			name: "voice map is case-insensitive, unknown gets the default",
			opts: HTTPOptions{VoiceMap: map[string]string{"en-us-guyneural": "onyx"}},
			r:    Request{Text: "Hi", VoiceName: "en-US-GuyNeural"},
			want: speechRequest{Model: "tts-1", Input: "Hi", Voice: "onyx", ResponseFormat: "wav"},
		},
		{
			name: "SSML becomes plain text, its voice is mapped",
			opts: HTTPOptions{VoiceMap: map[string]string{"en-US-JennyNeural": "shimmer"}},
			r:    Request{SSML: azureSSML},
			want: speechRequest{Model: "tts-1", Input: "Thanks for calling Contoso! Please hold. Guten Tag et bonjour.", Voice: "shimmer", ResponseFormat: "wav"},
		},
		{
			name: "base URL ending in /v1/",
			base: "/v1/",
			r:    Request{Text: "Hi", VoiceName: "en-US-NobodyNeural"},
			want: speechRequest{Model: "tts-1", Input: "Hi", Voice: "alloy", ResponseFormat: "wav"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSpeechServer(t, 200, wav24k)
			tt.opts.BaseURL = srv.URL + tt.base
			h := newProvider(t, tt.opts)
			wav, err := h.Synthesize(context.Background(), tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if w := decodeCanonical(t, wav); w.rate != 24000 || len(w.samples) != 2400 {
				t.Errorf("got %d samples at %d Hz", len(w.samples), w.rate)
			}
			if len(srv.reqs) != 1 {
				t.Fatalf("%d requests", len(srv.reqs))
			}
			if srv.reqs[0] != tt.want {
				t.Errorf("request %+v, want %+v", srv.reqs[0], tt.want)
			}
			if srv.auth[0] != tt.auth {
				t.Errorf("Authorization %q, want %q", srv.auth[0], tt.auth)
			}
			if srv.paths[0] != "/v1/audio/speech" {
				t.Errorf("path %q", srv.paths[0])
			}
		})
	}
}

func TestHTTPProviderErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		opts    HTTPOptions
		r       Request
		status2 int    // the ProviderError status, 0 if not one
		want    error  // else errors.Is
		msg     string // in the error
	}{
		{"401", 401, `{"error":{"message":"Incorrect API key provided: sk-***","type":"invalid_request_error"}}`, HTTPOptions{}, Request{Text: "a"}, 401, nil, "Incorrect API key provided"},
		{"403 plain", 403, "forbidden\n", HTTPOptions{}, Request{Text: "a"}, 403, nil, "forbidden"},
		{"429", 429, `{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}`, HTTPOptions{}, Request{Text: "a"}, 429, nil, "Rate limit reached"},
		{"500 detail", 500, `{"detail":"model crashed"}`, HTTPOptions{}, Request{Text: "a"}, 500, nil, "model crashed"},
		{"503 long html", 503, "<html>" + strings.Repeat("x", 5000), HTTPOptions{}, Request{Text: "a"}, 503, nil, "<html>xxx"},
		{"non-WAV body", 200, `ID3` + strings.Repeat("\x00", 100), HTTPOptions{}, Request{Text: "a"}, 0, errBadWAV, "not a WAV"},
		{"JSON body", 200, `{"audio":"..."}`, HTTPOptions{}, Request{Text: "a"}, 0, errBadWAV, "not a WAV"},
		{"WAV of the wrong format", 200, string(wavFile(3, 1, 24000, 32, nil, 0, 0, make([]byte, 8))), HTTPOptions{}, Request{Text: "a"}, 0, errBadWAV, "format 3"},
		{"response too big", 200, string(streamingWAV(24000, tone(1000))), HTTPOptions{MaxResponseBytes: 100}, Request{Text: "a"}, 0, ErrTooLong, "exceeds 100 bytes"},
		{"text too long", 200, "", HTTPOptions{MaxChars: 3}, Request{Text: "abcd"}, 0, ErrTooLong, "4 characters"},
		{"empty", 200, "", HTTPOptions{}, Request{Text: " "}, 0, ErrEmpty, ""},
		{"invalid SSML", 200, "", HTTPOptions{}, Request{SSML: "<speak>"}, 0, ErrInvalidSSML, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSpeechServer(t, tt.status, []byte(tt.body))
			tt.opts.BaseURL = srv.URL
			_, err := newProvider(t, tt.opts).Synthesize(context.Background(), tt.r)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want one containing %q", err, tt.msg)
			}
			var pe *ProviderError
			if tt.status2 != 0 {
				if !errors.As(err, &pe) || pe.Status != tt.status2 {
					t.Fatalf("err = %#v, want a ProviderError with status %d", err, tt.status2)
				}
				if utf8.RuneCountInString(pe.Message) > provider.MessageRunes+1 {
					t.Errorf("message of %d runes", utf8.RuneCountInString(pe.Message))
				}
			} else if !errors.Is(err, tt.want) || errors.As(err, &pe) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHTTPProviderUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	h := newProvider(t, HTTPOptions{BaseURL: url})
	if _, err := h.Synthesize(context.Background(), Request{Text: "hi"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestHTTPProviderContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := newProvider(t, HTTPOptions{BaseURL: srv.URL})
	if _, err := h.Synthesize(ctx, Request{Text: "hi"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v, want context.Canceled", err)
	}
	h = newProvider(t, HTTPOptions{BaseURL: srv.URL, Timeout: 20 * time.Millisecond})
	if _, err := h.Synthesize(context.Background(), Request{Text: "hi"}); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("timeout: err = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
}

func TestNewHTTPProviderBadURL(t *testing.T) {
	for _, u := range []string{"", "localhost:8000", "ftp://x", "http://", "://bad"} {
		if _, err := NewHTTPProvider(HTTPOptions{BaseURL: u}, nil, nil); err == nil {
			t.Errorf("base URL %q accepted", u)
		}
	}
}
