package provider

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"error":{"message":"bad key"}}`, "bad key"},
		{`{"error":"quota"}`, "quota"},
		{`{"message":"nope"}`, "nope"},
		{`{"detail":"missing input"}`, "missing input"},
		{`{"detail":[{"loc":["body"],"msg":"x"}]}`, `{"detail":[{"loc":["body"],"msg":"x"}]}`},
		{"  Service\n\tUnavailable \x1b[0m ", "Service Unavailable [0m"},
		{"", ""},
		{strings.Repeat("é", 300), strings.Repeat("é", MessageRunes) + "…"},
	}
	for _, tt := range tests {
		if got := ErrorMessage([]byte(tt.body)); got != tt.want {
			t.Errorf("ErrorMessage(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"bad key"}}`))
	f.Add([]byte(`{"detail":"x"}`))
	f.Add([]byte("\xff\xfe garbage"))
	f.Fuzz(func(t *testing.T, body []byte) {
		m := ErrorMessage(body)
		if !utf8.ValidString(m) || utf8.RuneCountInString(m) > MessageRunes+1 {
			t.Fatalf("bad message %q", m)
		}
		if strings.ContainsFunc(m, func(r rune) bool { return r < 0x20 }) {
			t.Fatalf("control character in %q", m)
		}
	})
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8000":        "http://127.0.0.1:8000",
		" https://api.example.com/v1/": "https://api.example.com",
		"http://whisper:9000/v1":       "http://whisper:9000",
		"http://h/proxy/v1":            "http://h/proxy",
	} {
		if got, err := BaseURL(in); err != nil || got != want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "whisper:9000", "ftp://h/", "http://", "://x", "/v1"} {
		if got, err := BaseURL(bad); err == nil {
			t.Errorf("BaseURL(%q) = %q, want an error", bad, got)
		}
	}
}
