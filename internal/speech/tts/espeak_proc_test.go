package tts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run espeak.go's process handling against /bin/sh stand-ins,
// so they need no espeak-ng.

func newFake(t *testing.T, body string, opts EspeakOptions) (*Espeak, string) {
	t.Helper()
	bin, dir := fakeEspeak(t, body)
	opts.Binary = bin
	e, err := NewEspeak(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e, dir
}

// waitFor polls cond; it fails the test if cond stays false for long.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestEspeakCommandLine(t *testing.T) {
	const record = `printf '%s\n' "$@" > "$D/args"; cat > "$D/stdin"; cat "$D/canned.wav"`
	tests := []struct {
		name  string
		opts  EspeakOptions
		r     Request
		args  []string
		stdin string
	}{
		{
			name: "text with voice",
			r:    Request{Text: "  Hello\r\nworld\x00!  ", VoiceName: "en-US-JennyNeural"},
			args: []string{"--stdout", "-b", "1", "--stdin", "-v", "en-us+f3"}, stdin: "Hello\n\nworld !",
		},
		{
			name: "text with rate",
			opts: EspeakOptions{Rate: 1000},
			r:    Request{Text: "Hi", Locale: "de-DE", VoiceKind: "male"},
			args: []string{"--stdout", "-b", "1", "--stdin", "-v", "de+m3", "-s", "450"}, stdin: "Hi",
		},
		{
			name: "option-like text stays on stdin",
			r:    Request{Text: "--help -w /tmp/x", VoiceName: "--voices"},
			args: []string{"--stdout", "-b", "1", "--stdin", "-v", "en-us"}, stdin: "--help -w /tmp/x",
		},
		{
			name: "SSML is transformed, no rate",
			opts: EspeakOptions{Rate: 150},
			r:    Request{SSML: `<speak xml:lang="fr-FR"><voice name="fr-FR-HenriNeural"><mstts:x xmlns:mstts="m">Salut</mstts:x></voice></speak>`},
			args: []string{"--stdout", "-b", "1", "--stdin", "-m", "-v", "fr"}, stdin: `<speak><voice name="fr+m3"> Salut </voice></speak>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, dir := newFake(t, record, tt.opts)
			wav, err := e.Synthesize(context.Background(), tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if w := decodeCanonical(t, wav); len(w.samples) != 2205 || w.rate != 22050 {
				t.Errorf("canned WAV came back as %d samples at %d Hz", len(w.samples), w.rate)
			}
			if got := readLines(t, filepath.Join(dir, "args")); !slices.Equal(got, tt.args) {
				t.Errorf("args = %q, want %q", got, tt.args)
			}
			stdin, _ := os.ReadFile(filepath.Join(dir, "stdin"))
			if string(stdin) != tt.stdin {
				t.Errorf("stdin = %q, want %q", stdin, tt.stdin)
			}
		})
	}
}

// TestEspeakRejectsWithoutRunning: invalid requests never start a process.
func TestEspeakRejectsWithoutRunning(t *testing.T) {
	e, dir := newFake(t, `touch "$D/ran"; cat "$D/canned.wav"`, EspeakOptions{})
	tests := []struct {
		name string
		r    Request
		want error
	}{
		{"unclosed tag", Request{SSML: `<speak><voice name="en-US-JennyNeural">Hi</speak>`}, ErrInvalidSSML},
		{"no speak root", Request{SSML: `<voice>Hi</voice>`}, ErrInvalidSSML},
		{"doctype entity", Request{SSML: `<!DOCTYPE speak [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>`}, ErrInvalidSSML},
		{"empty text", Request{Text: ""}, ErrEmpty},
		{"empty SSML", Request{SSML: `<speak><audio src="x">y</audio></speak>`}, ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.Synthesize(context.Background(), tt.r); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if exists(filepath.Join(dir, "ran")) {
		t.Fatal("espeak-ng was run for an invalid request")
	}
}

func TestEspeakProcessFailures(t *testing.T) {
	tests := []struct {
		name string
		body string
		opts EspeakOptions
		want error  // nil: any error
		text string // in the error
	}{
		{"exit status and stderr", `echo "Error: voice does not exist" >&2; exit 3`, EspeakOptions{}, nil, "exit status 3 (stderr: Error: voice does not exist)"},
		{"not a WAV", `echo "this is not audio"; echo oops >&2`, EspeakOptions{}, errBadWAV, "stderr: oops"},
		{"no audio", `head -c 44 "$D/canned.wav"`, EspeakOptions{}, ErrEmpty, "no audio"},
		{"output bound", `cat "$D/canned.wav" "$D/canned.wav"`, EspeakOptions{MaxOutputBytes: 5000}, ErrTooLong, "exceeds 5000 bytes"},
		{"endless output", `cat "$D/canned.wav"; exec cat /dev/zero`, EspeakOptions{MaxOutputBytes: 1 << 20}, ErrTooLong, "exceeds"},
		{"timeout", `exec sleep 600`, EspeakOptions{Timeout: 50 * time.Millisecond}, context.DeadlineExceeded, "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newFake(t, tt.body, tt.opts)
			_, err := e.Synthesize(context.Background(), Request{Text: "hello"})
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.want, tt.text)
			}
		})
	}
}

// TestEspeakCancelKills: cancelling the context kills the running process.
func TestEspeakCancelKills(t *testing.T) {
	e, dir := newFake(t, `echo $$ > "$D/pid.tmp"; mv "$D/pid.tmp" "$D/pid"; exec sleep 600`, EspeakOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Synthesize(ctx, Request{Text: "hello"})
		done <- err
	}()
	pidFile := filepath.Join(dir, "pid")
	waitFor(t, "the process to start", func() bool { return exists(pidFile) })
	pid, err := strconv.Atoi(strings.TrimSpace(readLines(t, pidFile)[0]))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Synthesize waited for the process, so it is dead and reaped.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d still exists after cancel (kill 0: %v)", pid, err)
	}
}

// TestEspeakConcurrencyLimit: no more than MaxConcurrent processes run at
// once; the others wait for a slot.
func TestEspeakConcurrencyLimit(t *testing.T) {
	const limit, requests = 2, 6
	e, dir := newFake(t, `touch "$D/run.$$"
n=$(ls "$D" | grep -c '^run\.')
if [ "$n" -gt 2 ]; then echo "$n" >> "$D/over"; fi
echo x >> "$D/started"
while [ ! -e "$D/go" ]; do sleep 0.01; done
rm "$D/run.$$"
cat "$D/canned.wav"`, EspeakOptions{MaxConcurrent: limit})
	running := func() int {
		ents, _ := os.ReadDir(dir)
		n := 0
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "run.") {
				n++
			}
		}
		return n
	}
	var wg sync.WaitGroup
	errs := make([]error, requests)
	for i := range requests {
		wg.Go(func() { _, errs[i] = e.Synthesize(context.Background(), Request{Text: "hello"}) })
	}
	waitFor(t, "the first processes", func() bool { return running() == limit })
	for range 50 { // the other requests are queued, not running
		if n := running(); n > limit {
			t.Fatalf("%d processes running, limit %d", n, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := len(readLines(t, filepath.Join(dir, "started"))); n != requests {
		t.Errorf("%d processes started, want %d", n, requests)
	}
	if exists(filepath.Join(dir, "over")) {
		t.Errorf("a process saw more than %d running: %q", limit, readLines(t, filepath.Join(dir, "over")))
	}
}

// TestEspeakQueuedCancel: a request waiting for a slot gives up with its
// context.
func TestEspeakQueuedCancel(t *testing.T) {
	e, dir := newFake(t, `touch "$D/running"; while [ ! -e "$D/go" ]; do sleep 0.01; done; cat "$D/canned.wav"`, EspeakOptions{MaxConcurrent: 1})
	first := make(chan error, 1)
	go func() {
		_, err := e.Synthesize(context.Background(), Request{Text: "first"})
		first <- err
	}()
	waitFor(t, "the first process", func() bool { return exists(filepath.Join(dir, "running")) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Synthesize(ctx, Request{Text: "second"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("queued request: err = %v, want context.Canceled", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
