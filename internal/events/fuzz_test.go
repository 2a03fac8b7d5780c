package events

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseValidationResponse feeds arbitrary endpoint answers to the
// validation handshake parser.
func FuzzParseValidationResponse(f *testing.F) {
	for _, s := range []string{
		`{"validationResponse":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}`,
		`{"ValidationResponse":"abc"}`,
		`{"validationResponse":""}`,
		`{"validationResponse":null}`,
		`{"validationResponse":42}`,
		`[{"validationResponse":"x"}]`,
		``, `null`, `{}`, `"x"`, `{"validationResponse":" x "}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, ok := parseValidationResponse(body)
		if ok != (code != "") {
			t.Fatalf("ok %v with code %q", ok, code)
		}
		if code != strings.TrimSpace(code) {
			t.Fatalf("code %q not trimmed", code)
		}
		if !ok {
			return
		}
		// What parsed must survive a round trip.
		again, err := json.Marshal(map[string]string{"validationResponse": code})
		if err != nil {
			t.Fatal(err)
		}
		if c2, ok2 := parseValidationResponse(again); !ok2 || c2 != code {
			t.Fatalf("round trip %q → %q %v", code, c2, ok2)
		}
	})
}

// FuzzDecodeStringList checks the decoder of the JSON filter columns.
func FuzzDecodeStringList(f *testing.F) {
	for _, s := range []string{`[]`, `["a","b"]`, ``, `null`, `[1]`, `{"a":1}`, `["\u0000"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := decodeStringList(s)
		if err != nil {
			return
		}
		l2, err := decodeStringList(encodeStringList(l))
		if err != nil || len(l2) != len(l) {
			t.Fatalf("round trip of %q: %q %v", l, l2, err)
		}
		for i := range l {
			if l[i] != l2[i] {
				t.Fatalf("round trip of %q: %q", l, l2)
			}
		}
	})
}
