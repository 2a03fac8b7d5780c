package testpeer

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// RequirePeersEnv is the environment variable that turns a missing peer
// binary from a skipped test into a failed one.
const RequirePeersEnv = "REQUIRE_TEST_PEERS"

// peersRequired reports whether REQUIRE_TEST_PEERS=1.
func peersRequired() bool {
	return os.Getenv(RequirePeersEnv) == "1"
}

// findBinary looks up a peer binary: the path in envVar when set, else name
// on PATH. When it is missing the test is skipped, or failed when
// REQUIRE_TEST_PEERS=1.
// Binary finds a program the tests run (envVar may name its path). It skips
// the test when the program is missing, or fails it with REQUIRE_TEST_PEERS=1.
func Binary(t testing.TB, envVar, name, installHint string) string {
	t.Helper()
	return findBinary(t, envVar, name, installHint)
}

func findBinary(t testing.TB, envVar, name, installHint string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("testpeer: %s=%s: %v", envVar, p, err)
		}
		return p
	}
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if peersRequired() {
		t.Fatalf("testpeer: %s not found on PATH (%s); %s=1 requires it", name, installHint, RequirePeersEnv)
	}
	t.Skipf("testpeer: %s not found on PATH (%s); skipping (set %s=1 to fail instead)", name, installHint, RequirePeersEnv)
	return ""
}

var (
	repoRootOnce sync.Once
	repoRoot     string
	repoRootErr  error
)

// RepoRoot returns the repository root: the nearest directory at or above the
// working directory that holds go.mod.
func RepoRoot() (string, error) {
	repoRootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			repoRootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				repoRoot = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				repoRootErr = errors.New("testpeer: no go.mod at or above the working directory")
				return
			}
			dir = parent
		}
	})
	return repoRoot, repoRootErr
}

func mustRepoRoot(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort() (int, error) {
	return freePort("UDP", func() (int, error) {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	})
}

// FreeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreeTCPPort() (int, error) {
	return freePort("TCP", func() (int, error) {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	})
}

// freePort asks probe for ports the kernel just handed out until one was
// not handed out by this process before.
func freePort(kind string, probe func() (int, error)) (int, error) {
	for range 50 {
		port, err := probe()
		if err != nil {
			return 0, err
		}
		if claimPorts(port) {
			return port, nil
		}
	}
	return 0, fmt.Errorf("testpeer: no free %s port", kind)
}

// handedOut holds every port the Free* helpers have returned in this process.
// The kernel may give the same ephemeral port to two probes in a row (the
// probe socket is closed before the peer binds it); a peer that is handed the
// port another peer already holds fails with EADDRINUSE, so no port is handed
// out twice.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// claimPorts records the ports as handed out and reports true, or changes
// nothing and reports false when any of them was handed out before.
func claimPorts(ports ...int) bool {
	handedOut.Lock()
	defer handedOut.Unlock()
	for _, p := range ports {
		if handedOut.ports[p] {
			return false
		}
	}
	for _, p := range ports {
		handedOut.ports[p] = true
	}
	return true
}

// FreeUDPTCPPort returns a port on 127.0.0.1 that is free for both UDP and
// TCP (SIP stacks such as baresip listen on both).
func FreeUDPTCPPort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err == nil {
			c.Close()
			if claimPorts(port) {
				return port, nil
			}
		}
	}
	return 0, errors.New("testpeer: no port free for both UDP and TCP")
}

// freeUDPPortPair returns a UDP port p such that p and p+step are both free
// (SIPp binds its media port and media port + 2).
func freeUDPPortPair(step int) (int, error) {
	for range 50 {
		a, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := a.LocalAddr().(*net.UDPAddr).Port
		if p+step > 65535 {
			a.Close()
			continue
		}
		b, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p+step))
		a.Close()
		if err == nil {
			b.Close()
			if claimPorts(p, p+step) {
				return p, nil
			}
		}
	}
	return 0, errors.New("testpeer: no free UDP port pair")
}

// udpPortBound reports whether some socket is bound to the UDP port on
// 127.0.0.1 or on the wildcard address, by reading /proc/net/udp. ok is false
// when /proc/net/udp cannot be read (not Linux).
func udpPortBound(port int) (bound, ok bool) {
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return false, false
	}
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		local := fields[1]                  // e.g. 0100007F:13C4
		if strings.HasSuffix(local, want) { // any local address: tests bind 127.0.0.2 too
			return true, true
		}
	}
	return false, true
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
