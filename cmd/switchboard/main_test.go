package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("auth:\n  accessKeys: [\"c3VwZXItc2VjcmV0LXRlc3Qta2V5LTAxMjM0NTY3ODk=\"]\n"), 0o600)
	if code, out, errOut := runCLI("config", "check", good); code != 0 || !strings.Contains(out, "is valid") {
		t.Fatalf("valid file: %d %q %q", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("media:\n  portMin: 9\nlog:\n  level: loud\n"), 0o600)
	code, _, errOut := runCLI("config", "check", bad)
	if code != 1 || !strings.Contains(errOut, "log.level") || !strings.Contains(errOut, "port range") {
		t.Fatalf("invalid file: %d %q", code, errOut)
	}
	if code, _, _ := runCLI("config", "check", filepath.Join(dir, "missing.yaml")); code != 1 {
		t.Fatal("missing file accepted")
	}
	if code, _, _ := runCLI("nonsense"); code != 2 {
		t.Fatal("unknown command accepted")
	}
}

func TestVersionAndKeygen(t *testing.T) {
	if code, out, _ := runCLI("version"); code != 0 || !strings.HasPrefix(out, "switchboard ") {
		t.Fatalf("version: %d %q", code, out)
	}
	code, out, _ := runCLI("keygen")
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out))
	if code != 0 || err != nil || len(key) != 32 {
		t.Fatalf("keygen: %d %q %v", code, out, err)
	}
}

func TestUserAndNumberCommands(t *testing.T) {
	t.Setenv("SWITCHBOARD_DATADIR", t.TempDir())
	code, out, errOut := runCLI("user", "add", "-username", "alice", "-display-name", "Alice")
	if code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	var u struct{ ID, Username, Password string }
	json.Unmarshal([]byte(out), &u)
	if u.ID != "8:acs:switchboard_alice" || u.Password == "" {
		t.Fatalf("user add printed %s", out)
	}
	if code, out, _ := runCLI("user", "list"); code != 0 || !strings.Contains(out, "alice") || strings.Contains(out, u.Password) {
		t.Fatalf("user list: %d %s", code, out)
	}
	if code, _, _ := runCLI("number", "add", "555"); code != 1 {
		t.Fatal("non-E.164 number accepted")
	}
	if code, _, errOut := runCLI("number", "add", "+14255550100"); code != 0 {
		t.Fatalf("number add: %s", errOut)
	}
	if code, out, _ := runCLI("number", "list"); code != 0 || !strings.Contains(out, "+14255550100") {
		t.Fatalf("number list: %s", out)
	}
	if code, _, _ := runCLI("user", "delete", "alice"); code != 0 {
		t.Fatal("user delete failed")
	}
	if code, _, _ := runCLI("user", "delete", "alice"); code != 1 {
		t.Fatal("deleting a missing user succeeded")
	}
}
