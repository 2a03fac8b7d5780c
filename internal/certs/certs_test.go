package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", file)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func caPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatal("ca.pem not parseable")
	}
	return pool
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEnsureLocalCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	res, err := EnsureLocal(dir, []string{"switchboard.test", "Calls.Example.COM.", "10.1.2.3"}, []net.IP{net.ParseIP("192.0.2.7"), net.ParseIP("2001:db8::1")}, clock(t0))
	if err != nil {
		t.Fatal(err)
	}
	if !res.CreatedCA || !res.IssuedCert {
		t.Fatalf("first call result %+v, want CA created and cert issued", res)
	}
	if res.CAFile != filepath.Join(dir, "ca.pem") || res.CertFile != filepath.Join(dir, "server.pem") || res.KeyFile != filepath.Join(dir, "server-key.pem") {
		t.Fatalf("paths %+v", res)
	}
	for file, perm := range map[string]os.FileMode{"ca-key.pem": 0o600, "server-key.pem": 0o600, "ca.pem": 0o644, "server.pem": 0o644} {
		st, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != perm {
			t.Errorf("%s mode %v, want %v", file, st.Mode().Perm(), perm)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("dir has %d entries, want 4 (temp files left?)", len(entries))
	}

	ca := readCert(t, res.CAFile)
	if !ca.IsCA || !strings.HasPrefix(ca.Subject.CommonName, "Switchboard Local CA") {
		t.Fatalf("CA subject %q IsCA=%v", ca.Subject.CommonName, ca.IsCA)
	}
	if ca.PublicKeyAlgorithm != x509.ECDSA || ca.NotAfter.Sub(t0) < 9*365*24*time.Hour {
		t.Fatalf("CA alg %v notAfter %v", ca.PublicKeyAlgorithm, ca.NotAfter)
	}
	leaf := readCert(t, res.CertFile)
	if leaf.NotAfter.Sub(t0) < 360*24*time.Hour || leaf.NotAfter.Sub(t0) > 366*24*time.Hour {
		t.Fatalf("server cert notAfter %v", leaf.NotAfter)
	}

	pool := caPool(t, res.CAFile)
	for _, name := range []string{"localhost", "switchboard.test", "calls.example.com", "127.0.0.1", "::1", "10.1.2.3", "192.0.2.7", "2001:db8::1"} {
		t.Run("verify "+name, func(t *testing.T) {
			_, err := leaf.Verify(x509.VerifyOptions{
				DNSName:     name,
				Roots:       pool,
				CurrentTime: t0,
				KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				t.Fatalf("verify %s: %v", name, err)
			}
		})
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: pool, CurrentTime: t0}); err == nil {
		t.Fatal("certificate unexpectedly valid for other.example")
	}
	if _, err := tls.LoadX509KeyPair(res.CertFile, res.KeyFile); err != nil {
		t.Fatalf("LoadX509KeyPair: %v", err)
	}
}

func TestEnsureLocalSequence(t *testing.T) {
	type step struct {
		name      string
		dns       []string
		ips       []net.IP
		at        time.Time
		mutate    func(t *testing.T, dir string)
		wantCA    bool // CreatedCA
		wantIssue bool // IssuedCert
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"idempotent", []step{
			{name: "create", dns: []string{"a.test"}, at: t0, wantCA: true, wantIssue: true},
			{name: "same names", dns: []string{"a.test"}, at: t0.Add(time.Hour)},
			{name: "subset of names", dns: nil, at: t0.Add(48 * time.Hour)},
			{name: "names differently spelled", dns: []string{"A.TEST.", "127.0.0.1"}, ips: []net.IP{net.ParseIP("::1")}, at: t0.Add(72 * time.Hour)},
		}},
		{"names change", []step{
			{name: "create", dns: []string{"a.test"}, at: t0, wantCA: true, wantIssue: true},
			{name: "new dns name", dns: []string{"a.test", "b.test"}, at: t0, wantIssue: true},
			{name: "new ip", dns: []string{"a.test", "b.test"}, ips: []net.IP{net.ParseIP("198.51.100.9")}, at: t0, wantIssue: true},
			{name: "stable again", dns: []string{"b.test", "a.test"}, ips: []net.IP{net.ParseIP("198.51.100.9")}, at: t0},
		}},
		{"expiry", []step{
			{name: "create", at: t0, wantCA: true, wantIssue: true},
			{name: "31 days left", at: t0.Add(334 * 24 * time.Hour)},
			{name: "29 days left", at: t0.Add(336 * 24 * time.Hour), wantIssue: true},
			{name: "fresh again", at: t0.Add(337 * 24 * time.Hour)},
			{name: "CA near expiry", at: t0.Add(10*365*24*time.Hour - 10*24*time.Hour), wantCA: true, wantIssue: true},
		}},
		{"repairs server files", []step{
			{name: "create", at: t0, wantCA: true, wantIssue: true},
			{name: "missing cert", at: t0, mutate: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, CertFileName)) }, wantIssue: true},
			{name: "missing key", at: t0, mutate: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, CertKeyFileName)) }, wantIssue: true},
			{name: "corrupt cert", at: t0, mutate: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, CertFileName), []byte("garbage"), 0o644)
			}, wantIssue: true},
			{name: "key of another pair", at: t0, mutate: func(t *testing.T, dir string) {
				b, _ := os.ReadFile(filepath.Join(dir, CAKeyFileName))
				os.WriteFile(filepath.Join(dir, CertKeyFileName), b, 0o600)
			}, wantIssue: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var lastCA, lastCert []byte
			for _, s := range tt.steps {
				if s.mutate != nil {
					s.mutate(t, dir)
				}
				res, err := EnsureLocal(dir, s.dns, s.ips, clock(s.at))
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if res.CreatedCA != s.wantCA || res.IssuedCert != s.wantIssue {
					t.Fatalf("%s: CreatedCA=%v IssuedCert=%v, want %v %v", s.name, res.CreatedCA, res.IssuedCert, s.wantCA, s.wantIssue)
				}
				caPEM, certPEM := mustRead(t, res.CAFile), mustRead(t, res.CertFile)
				if lastCA != nil && !s.wantCA && !bytes.Equal(caPEM, lastCA) {
					t.Fatalf("%s: CA changed", s.name)
				}
				if lastCert != nil && !s.wantIssue && !bytes.Equal(certPEM, lastCert) {
					t.Fatalf("%s: server cert changed", s.name)
				}
				lastCA, lastCert = caPEM, certPEM
				// The current pair always verifies for every requested name.
				leaf := readCert(t, res.CertFile)
				names := append([]string{"localhost", "127.0.0.1", "::1"}, s.dns...)
				for _, ip := range s.ips {
					names = append(names, ip.String())
				}
				for _, n := range names {
					n = strings.TrimSuffix(strings.ToLower(n), ".")
					if _, err := leaf.Verify(x509.VerifyOptions{DNSName: n, Roots: caPool(t, res.CAFile), CurrentTime: s.at}); err != nil {
						t.Fatalf("%s: verify %s: %v", s.name, n, err)
					}
				}
			}
		})
	}
}

func TestEnsureLocalErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		dns   []string
	}{
		{"invalid dns name", nil, []string{"bad name"}},
		{"invalid dns label", nil, []string{"-bad.example"}},
		{"CA key missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, CAKeyFileName)) }, nil},
		{"CA cert missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, CAFileName)) }, nil},
		{"CA corrupt", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, CAFileName), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644)
		}, nil},
		{"CA key mismatch", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, CertKeyFileName))
			os.WriteFile(filepath.Join(dir, CAKeyFileName), b, 0o600)
		}, nil},
		{"CA file is a leaf", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, CertFileName))
			os.WriteFile(filepath.Join(dir, CAFileName), b, 0o644)
			k, _ := os.ReadFile(filepath.Join(dir, CertKeyFileName))
			os.WriteFile(filepath.Join(dir, CAKeyFileName), k, 0o600)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				if _, err := EnsureLocal(dir, nil, nil, clock(t0)); err != nil {
					t.Fatal(err)
				}
				tt.setup(t, dir)
			}
			before, _ := os.ReadFile(filepath.Join(dir, CAFileName))
			if _, err := EnsureLocal(dir, tt.dns, nil, clock(t0)); err == nil {
				t.Fatal("expected error")
			}
			after, _ := os.ReadFile(filepath.Join(dir, CAFileName))
			if !bytes.Equal(before, after) {
				t.Fatal("failed call modified ca.pem")
			}
		})
	}
}

// TestTLSHandshake serves HTTPS with the issued certificate and connects with
// a client that trusts only ca.pem (real clock: the handshake checks validity).
func TestTLSHandshake(t *testing.T) {
	dir := t.TempDir()
	res, err := EnsureLocal(dir, []string{"switchboard.test"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(res.CertFile, res.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()

	pool := caPool(t, res.CAFile)
	for _, serverName := range []string{"", "localhost", "switchboard.test", "wrong.test"} {
		t.Run("sni="+serverName, func(t *testing.T) {
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName}}}
			defer client.CloseIdleConnections()
			resp, err := client.Get(srv.URL) // https://127.0.0.1:port
			if serverName == "wrong.test" {
				if err == nil {
					resp.Body.Close()
					t.Fatal("handshake succeeded for a name not in the certificate")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if string(body) != "hello" {
				t.Fatalf("body %q", body)
			}
		})
	}

	// A client trusting only the system roots must reject it.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
	if resp, err := client.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Fatal("untrusted client accepted the certificate")
	}
}

func TestNormalize(t *testing.T) {
	names, ips, err := normalize([]string{" Foo.Example. ", "", "foo.example", "[::1]", "127.0.0.1", "*.wild.test"}, []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("192.0.2.1").To16()})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "localhost,foo.example,*.wild.test" {
		t.Fatalf("names %s", got)
	}
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	if got := strings.Join(s, ","); got != "127.0.0.1,::1,192.0.2.1" {
		t.Fatalf("ips %s", got)
	}
	if _, _, err := normalize(nil, []net.IP{{1, 2, 3}}); err == nil {
		t.Fatal("expected error for malformed IP")
	}
}
