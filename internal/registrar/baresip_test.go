package registrar

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// TestBaresipRegisters registers a real SIP UA (baresip) against the
// registrar over UDP. Skipped when baresip is not installed or in -short mode.
func TestBaresipRegisters(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Skip("baresip not installed")
	}
	modules := "/usr/lib/baresip/modules"
	if _, err := os.Stat(filepath.Join(modules, "account.so")); err != nil {
		t.Skip("baresip modules not found")
	}

	creds := newCreds()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // frozen: nonces stay fresh
	r := New(creds, testRealm, nil, func() time.Time { return now }, Options{})
	addr := startServer(t, r)

	// Pick a free local UDP port for baresip.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	uaAddr := pc.LocalAddr().String()
	pc.Close()

	dir := t.TempDir()
	config := fmt.Sprintf("sip_listen\t\t%s\nmodule_path\t\t%s\nmodule_app\t\taccount.so\n", uaAddr, modules)
	accounts := fmt.Sprintf("<sip:alice@%s;transport=udp>;auth_pass=alice-pass;regint=600\n", addr)
	for name, content := range map[string]string{"config": config, "accounts": accounts, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-t", "30")
	var out testpeer.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	defer func() {
		cmd.Process.Kill()
		<-waited
	}()

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if bs := r.Lookup("alice"); len(bs) > 0 {
			b := bs[0]
			if b.Source != uaAddr || b.Transport != "UDP" {
				t.Fatalf("binding %+v, want source %s over UDP", b, uaAddr)
			}
			if !b.Expires.Equal(now.Add(600 * time.Second)) {
				t.Fatalf("binding expires %v, want regint 600s after %v", b.Expires, now)
			}
			if creds.count() == 0 {
				t.Fatal("registered without a password check")
			}
			return
		}
		select {
		case <-tick.C:
		case <-waited:
			t.Fatalf("baresip exited before registering:\n%s", out.String())
		case <-ctx.Done():
			t.Fatalf("baresip did not register:\n%s", out.String())
		}
	}
}
