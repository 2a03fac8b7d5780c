package call

import (
	"strings"
	"testing"
	"time"
)

func TestIncomingCallContext(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	tok := sealContext(key, "call-1", "", now.Add(time.Minute))
	if p, err := openContext(key, tok, now); err != nil || p.ServerCallID != "call-1" || p.Invitation != "" {
		t.Fatalf("open = %+v, %v", p, err)
	}
	inv := sealContext(key, "call-1", "inv-7", now.Add(time.Minute))
	if p, err := openContext(key, inv, now); err != nil || p.ServerCallID != "call-1" || p.Invitation != "inv-7" {
		t.Fatalf("open invitation context = %+v, %v", p, err)
	}
	if strings.Contains(tok, "call-1") {
		t.Fatal("context shows the call id in clear text")
	}
	if _, err := openContext(key, tok, now.Add(2*time.Minute)); err == nil {
		t.Fatal("expired context accepted")
	}
	if _, err := openContext([]byte("another key another key another!"), tok, now); err == nil {
		t.Fatal("context from another key accepted")
	}
	// Flipping any character of the payload or the MAC breaks it.
	for i := 0; i < len(tok); i++ {
		if tok[i] == '.' {
			continue
		}
		b := []byte(tok)
		b[i] ^= 0x01
		if p, err := openContext(key, string(b), now); err == nil && p.ServerCallID == "call-1" {
			// Base64 padding bits can absorb a flip only in the last char.
			if i != len(tok)-1 && b[i-1] != '.' {
				t.Fatalf("tampered context (byte %d) accepted", i)
			}
		}
	}
	for _, bad := range []string{"", ".", "abc", "a.b.c", "!!!.???"} {
		if _, err := openContext(key, bad, now); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func FuzzOpenContext(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	f.Add(sealContext(key, "call-1", "", now.Add(time.Minute)))
	f.Add("eyJzIjoiIn0.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := openContext(key, tok, now)
		if err == nil && p.ServerCallID == "" {
			t.Fatal("empty call id accepted")
		}
	})
}
