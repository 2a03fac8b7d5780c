// Package provider holds what the HTTP speech engines (text-to-speech in
// internal/speech/tts, recognition in internal/speech/stt/httpstt) share
// about talking to OpenAI-compatible servers: their base URL, and turning
// an error answer into a short, printable message.
package provider

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MessageRunes bounds the length of ErrorMessage's result.
const MessageRunes = 200

// ErrorMessage extracts a short message from an error answer: the message
// of an OpenAI-style {"error":{"message":…}}, {"error":"…"}, {"message":…}
// or {"detail":"…"} body, else the body's text. It is valid UTF-8 without
// control characters and at most MessageRunes runes (plus an ellipsis).
func ErrorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	msg := ""
	if json.Unmarshal(body, &v) == nil {
		var obj struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &obj) == nil && obj.Message != "":
			msg = obj.Message
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &s) == nil && s != "":
			msg = s
		case v.Message != "":
			msg = v.Message
		case len(v.Detail) > 0 && json.Unmarshal(v.Detail, &s) == nil && s != "":
			msg = s
		}
	}
	if msg == "" {
		msg = string(body)
	}
	return Shorten(msg, MessageRunes)
}

// Shorten drops invalid UTF-8, turns control characters into spaces,
// collapses whitespace and cuts s to n runes (adding "…" when it cut).
func Shorten(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || r == '\uFEFF' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// BaseURL checks that raw is an http(s) URL with a host and returns it
// without a trailing slash or "/v1", so that callers append the full
// "/v1/audio/…" path whichever way the operator wrote it.
func BaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an http(s) URL")
	}
	return strings.TrimSuffix(strings.TrimRight(u.String(), "/"), "/v1"), nil
}
