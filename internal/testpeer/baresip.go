//go:build unix

package testpeer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BaresipOptions configures a baresip user agent.
type BaresipOptions struct {
	// SIPUser is the account's user part; default "baresip".
	SIPUser string
	// Password is the digest password (auth_pass), used when challenged.
	Password string
	// AuthUser is the digest user name when it differs from SIPUser.
	AuthUser string
	// DisplayName is the From display name.
	DisplayName string
	// Registrar "host:port" makes the account register there (regint
	// RegisterInterval). Empty: no registration; the account's domain is
	// baresip's own listen address and it can still dial any URI and take
	// calls sent straight to it (ContactURI).
	Registrar string
	// Transport is "udp" (default) or "tcp".
	Transport string
	// RegisterInterval is regint in seconds when Registrar is set; default 600.
	RegisterInterval int
	// AutoAnswer answers incoming calls at once (answermode=auto; baresip
	// 1.0.0 then emits no CALL_INCOMING, only CALL_ESTABLISHED); otherwise
	// they ring (CALL_INCOMING) until Accept.
	AutoAnswer bool
	// PlayFile is a WAV file (16-bit PCM) baresip sends as its microphone.
	// baresip 1.0.0 hangs up the call when the file ends (AUDIO_ERROR
	// "end of file", then CALL_CLOSED), so make it as long as the call must
	// last. Empty: an endless 440 Hz sine (ausine module).
	PlayFile string
	// RecordFile, when set, receives a copy of the audio baresip heard on its
	// last call (WAV, 8 kHz mono for G.711), written at Stop.
	RecordFile string
	// ExtraConfig lines are appended to the config file.
	ExtraConfig []string
	// ExtraAccountParams is appended to the account line, e.g.
	// ";outbound=\"sip:127.0.0.1:5070\"" or ";audio_codecs=PCMA".
	ExtraAccountParams string
}

// BaresipEvent is an event from ctrl_tcp, e.g. {"event":true,
// "type":"CALL_ESTABLISHED","class":"call","accountaor":"sip:a@b",
// "direction":"outgoing","peeruri":"sip:c@d","id":"…","param":"…"}.
type BaresipEvent struct {
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
	Raw        json.RawMessage
	At         time.Time
}

// BaresipResponse is a ctrl_tcp command response.
type BaresipResponse struct {
	OK    bool   `json:"ok"`
	Data  string `json:"data"`
	Token string `json:"token"`
}

// Baresip is a running baresip.
type Baresip struct {
	t        testing.TB
	opts     BaresipOptions
	cmd      *exec.Cmd
	dir      string
	sipPort  int
	ctrlPort int
	output   *lockedBuffer

	conn    net.Conn
	writeMu sync.Mutex
	token   int

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every event
	events   []BaresipEvent
	consumed []bool
	pending  map[string]chan BaresipResponse
	readErr  error
	fanout   chan BaresipEvent

	done     chan struct{}
	stopOnce sync.Once
}

// StartBaresip writes a config directory, starts baresip -f <dir> and
// connects to its ctrl_tcp socket. baresip listens for SIP on 127.0.0.1 at a
// free port (UDP and TCP), uses no sound card (audio source: PlayFile or a
// sine; player: aubridge; the sndfile module records both directions in
// <dir>/snd) and is stopped at test cleanup.
func StartBaresip(t testing.TB, opts BaresipOptions) *Baresip {
	t.Helper()
	bin := findBinary(t, "TEST_BARESIP", "baresip", "apt-get install baresip-core")
	if opts.SIPUser == "" {
		opts.SIPUser = "baresip"
	}
	if opts.Transport == "" {
		opts.Transport = "udp"
	}
	if opts.RegisterInterval == 0 {
		opts.RegisterInterval = 600
	}
	sipPort, err := FreeUDPTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	ctrlPort, err := FreeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(t.TempDir(), "baresip-")
	if err != nil {
		t.Fatal(err)
	}
	sndDir := filepath.Join(dir, "snd")
	if err := os.Mkdir(sndDir, 0o755); err != nil {
		t.Fatal(err)
	}

	// audio source
	srcLines := []string{"audio_source\t\tausine,440", "ausrc_srate\t\t48000", "ausrc_channels\t\t2"}
	if opts.PlayFile != "" {
		w, err := ReadWAV(opts.PlayFile)
		if err != nil {
			t.Fatalf("testpeer: PlayFile: %v", err)
		}
		abs, _ := filepath.Abs(opts.PlayFile)
		srcLines = []string{
			"audio_source\t\taufile," + abs,
			"ausrc_srate\t\t" + strconv.Itoa(w.SampleRate),
			"ausrc_channels\t\t" + strconv.Itoa(w.Channels),
		}
	}
	modPath := baresipModulePath()
	if modPath == "" {
		t.Fatal("testpeer: baresip modules not found (looked for g711.so in /usr/lib/baresip/modules and similar; set TEST_BARESIP_MODULES)")
	}
	rtpBase := 20000 + 2*rand.IntN(10000)
	config := []string{
		"# written by internal/testpeer",
		"poll_method\t\tepoll",
		"sip_listen\t\t127.0.0.1:" + strconv.Itoa(sipPort),
		"net_interface\t\t127.0.0.1",
		"call_local_timeout\t120",
		"call_max_calls\t\t4",
		"audio_path\t\t" + filepath.Join(filepath.Dir(filepath.Dir(modPath)), "..", "share", "baresip"),
		"audio_player\t\taubridge,testpeer",
		"audio_alert\t\taubridge,testpeer-alert",
		"auplay_srate\t\t8000",
		"auplay_channels\t\t1",
		"audio_buffer\t\t20-160",
		"rtp_ports\t\t" + strconv.Itoa(rtpBase) + "-" + strconv.Itoa(rtpBase+200),
		"rtcp_mux\t\tno",
		"jitter_buffer_delay\t5-10",
		"rtp_stats\t\tno",
		"module_path\t\t" + modPath,
		"module\t\t\tg711.so",
		"module\t\t\taufile.so",
		"module\t\t\tausine.so",
		"module\t\t\taubridge.so",
		"module\t\t\tsndfile.so",
		"module_tmp\t\taccount.so",
		"module_app\t\tmenu.so",
		"module_app\t\tctrl_tcp.so",
		"ctrl_tcp_listen\t\t127.0.0.1:" + strconv.Itoa(ctrlPort),
		"snd_path\t\t" + sndDir,
		"statmode_default\toff",
	}
	config = append(config, srcLines...)
	config = append(config, opts.ExtraConfig...)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(strings.Join(config, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	domain := "127.0.0.1:" + strconv.Itoa(sipPort)
	if opts.Registrar != "" {
		domain = opts.Registrar
	}
	account := fmt.Sprintf("<sip:%s@%s;transport=%s>", opts.SIPUser, domain, opts.Transport)
	if opts.DisplayName != "" {
		account = fmt.Sprintf("%q %s", opts.DisplayName, account)
	}
	if opts.Password != "" {
		account += ";auth_pass=" + opts.Password
	}
	if opts.AuthUser != "" {
		account += ";auth_user=" + opts.AuthUser
	}
	if opts.AutoAnswer {
		account += ";answermode=auto"
	} else {
		account += ";answermode=manual"
	}
	if opts.Registrar != "" {
		account += ";regint=" + strconv.Itoa(opts.RegisterInterval)
	} else {
		account += ";regint=0"
	}
	account += opts.ExtraAccountParams
	accounts := account + "\n"
	if opts.Registrar != "" {
		// registered later with "uanew", once ctrl_tcp is connected: events
		// (REGISTER_OK) are only sent to connected clients, and baresip
		// registers at once when it starts
		accounts = ""
	}
	for name, content := range map[string]string{"accounts": accounts, "contacts": "", "current_contact": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	b := &Baresip{
		t: t, opts: opts, dir: dir, sipPort: sipPort, ctrlPort: ctrlPort,
		output:  &lockedBuffer{},
		changed: make(chan struct{}),
		pending: map[string]chan BaresipResponse{},
		fanout:  make(chan BaresipEvent, 1024),
		done:    make(chan struct{}),
	}
	cmd := exec.Command(bin, "-4", "-f", dir)
	cmd.Dir = dir
	cmd.Stdout = b.output
	cmd.Stderr = b.output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testpeer: start baresip: %v", err)
	}
	b.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("testpeer: baresip output (%s):\n%s", dir, tail(b.Output(), 8000))
		}
	})

	// ctrl_tcp listens once baresip is up
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort), time.Second)
		if err == nil {
			b.conn = c
			break
		}
		select {
		case <-b.done:
			t.Fatalf("testpeer: baresip exited at start:\n%s", tail(b.Output(), 4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("testpeer: baresip ctrl_tcp not reachable: %v\n%s", err, tail(b.Output(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	go b.readLoop()
	if opts.Registrar != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := b.Command(ctx, "uanew", account)
		cancel()
		if err != nil {
			t.Fatalf("testpeer: baresip uanew: %v\n%s", err, tail(b.Output(), 4000))
		}
	}
	t.Logf("testpeer: baresip %s on %s (ctrl_tcp %d), dir %s", opts.SIPUser, b.SIPAddr(), ctrlPort, dir)
	return b
}

// SIPAddr is baresip's SIP listen address "127.0.0.1:port".
func (b *Baresip) SIPAddr() string { return "127.0.0.1:" + strconv.Itoa(b.sipPort) }

// SIPPort is baresip's SIP listen port (UDP and TCP).
func (b *Baresip) SIPPort() int { return b.sipPort }

// AOR is the account's address of record.
func (b *Baresip) AOR() string {
	domain := b.SIPAddr()
	if b.opts.Registrar != "" {
		domain = b.opts.Registrar
	}
	return "sip:" + b.opts.SIPUser + "@" + domain
}

// ContactURI reaches this baresip directly, without a registrar.
func (b *Baresip) ContactURI() string {
	return "sip:" + b.opts.SIPUser + "@" + b.SIPAddr()
}

// Dir is baresip's config directory.
func (b *Baresip) Dir() string { return b.dir }

// Output is baresip's stdout and stderr so far.
func (b *Baresip) Output() string { return b.output.String() }

// readLoop reads netstrings "<len>:<json>," from ctrl_tcp.
func (b *Baresip) readLoop() {
	r := bufio.NewReader(b.conn)
	var err error
	for {
		var payload []byte
		payload, err = readNetstring(r)
		if err != nil {
			break
		}
		var probe struct {
			Event    bool `json:"event"`
			Response bool `json:"response"`
		}
		if json.Unmarshal(payload, &probe) != nil {
			continue
		}
		switch {
		case probe.Event:
			var ev BaresipEvent
			_ = json.Unmarshal(payload, &ev)
			ev.Raw = append(json.RawMessage(nil), payload...)
			ev.At = time.Now()
			b.mu.Lock()
			b.events = append(b.events, ev)
			b.consumed = append(b.consumed, false)
			close(b.changed)
			b.changed = make(chan struct{})
			b.mu.Unlock()
			select {
			case b.fanout <- ev:
			default: // nobody reads Events(): drop
			}
		case probe.Response:
			var resp BaresipResponse
			_ = json.Unmarshal(payload, &resp)
			b.mu.Lock()
			ch := b.pending[resp.Token]
			delete(b.pending, resp.Token)
			b.mu.Unlock()
			if ch != nil {
				ch <- resp
			}
		}
	}
	b.mu.Lock()
	b.readErr = err
	close(b.changed)
	b.changed = make(chan struct{})
	for tok, ch := range b.pending {
		close(ch)
		delete(b.pending, tok)
	}
	b.mu.Unlock()
}

func readNetstring(r *bufio.Reader) ([]byte, error) {
	lenStr, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
	if err != nil || n < 0 || n > 16<<20 {
		return nil, fmt.Errorf("ctrl_tcp: bad netstring length %q", lenStr)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, errors.New("ctrl_tcp: netstring without trailing comma")
	}
	return buf[:n], nil
}

// Command runs a ctrl_tcp command (the menu module's commands: "dial",
// "hangup", "accept", "listcalls", "reginfo", "uanew", "quit", ...) and
// returns baresip's response. A response with ok=false is returned with an
// error.
func (b *Baresip) Command(ctx context.Context, command, params string) (BaresipResponse, error) {
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return BaresipResponse{}, fmt.Errorf("testpeer: baresip ctrl_tcp closed: %w", b.readErr)
	}
	b.token++
	tok := strconv.Itoa(b.token)
	ch := make(chan BaresipResponse, 1)
	b.pending[tok] = ch
	b.mu.Unlock()

	msg := map[string]string{"command": command, "token": tok}
	if params != "" {
		msg["params"] = params
	}
	payload, _ := json.Marshal(msg)
	b.writeMu.Lock()
	_, err := fmt.Fprintf(b.conn, "%d:%s,", len(payload), payload)
	b.writeMu.Unlock()
	if err != nil {
		return BaresipResponse{}, fmt.Errorf("testpeer: baresip %s: %w", command, err)
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return BaresipResponse{}, fmt.Errorf("testpeer: baresip %s: ctrl_tcp closed", command)
		}
		if !resp.OK {
			return resp, fmt.Errorf("testpeer: baresip %s %s: %s", command, params, strings.TrimSpace(resp.Data))
		}
		return resp, nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, tok)
		b.mu.Unlock()
		return BaresipResponse{}, fmt.Errorf("testpeer: baresip %s: %w", command, ctx.Err())
	}
}

// Dial calls uri, e.g. "sip:+15551234567@127.0.0.1:5090".
func (b *Baresip) Dial(ctx context.Context, uri string) error {
	_, err := b.Command(ctx, "dial", uri)
	return err
}

// Hangup hangs up the current call.
func (b *Baresip) Hangup(ctx context.Context) error {
	_, err := b.Command(ctx, "hangup", "")
	return err
}

// Accept answers the ringing incoming call.
func (b *Baresip) Accept(ctx context.Context) error {
	_, err := b.Command(ctx, "accept", "")
	return err
}

// Events returns a channel that receives every event from now on (buffered;
// events are dropped while it is full). WaitEvent does not consume from it.
func (b *Baresip) Events() <-chan BaresipEvent { return b.fanout }

// AllEvents returns a copy of every event received so far.
func (b *Baresip) AllEvents() []BaresipEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]BaresipEvent(nil), b.events...)
}

// WaitEvent returns the earliest event of that type (e.g. "CALL_INCOMING",
// "CALL_RINGING", "CALL_ESTABLISHED", "CALL_CLOSED", "REGISTER_OK",
// "REGISTER_FAIL") not returned by an earlier WaitEvent/WaitEventFunc call,
// waiting for it when needed.
func (b *Baresip) WaitEvent(ctx context.Context, typ string) (BaresipEvent, error) {
	return b.WaitEventFunc(ctx, func(ev BaresipEvent) bool { return ev.Type == typ })
}

// WaitEventFunc is WaitEvent with a predicate.
func (b *Baresip) WaitEventFunc(ctx context.Context, pred func(BaresipEvent) bool) (BaresipEvent, error) {
	for {
		b.mu.Lock()
		for i, ev := range b.events {
			if !b.consumed[i] && pred(ev) {
				b.consumed[i] = true
				b.mu.Unlock()
				return ev, nil
			}
		}
		changed, readErr := b.changed, b.readErr
		b.mu.Unlock()
		if readErr != nil {
			return BaresipEvent{}, fmt.Errorf("testpeer: baresip ctrl_tcp closed: %w", readErr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return BaresipEvent{}, fmt.Errorf("testpeer: baresip: waiting for event: %w (events so far: %s)", ctx.Err(), b.eventTypes())
		}
	}
}

func (b *Baresip) eventTypes() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s []string
	for _, ev := range b.events {
		s = append(s, ev.Type)
	}
	return strings.Join(s, ",")
}

// WaitRegistered waits for REGISTER_OK; REGISTER_FAIL is an error.
func (b *Baresip) WaitRegistered(ctx context.Context) error {
	ev, err := b.WaitEventFunc(ctx, func(ev BaresipEvent) bool {
		return ev.Type == "REGISTER_OK" || ev.Type == "REGISTER_FAIL"
	})
	if err != nil {
		return err
	}
	if ev.Type == "REGISTER_FAIL" {
		return fmt.Errorf("testpeer: baresip registration failed: %s", ev.Param)
	}
	return nil
}

// ReceivedAudioFiles lists the WAV files of received (decoded) audio the
// sndfile module wrote, oldest first. A file is complete once its call
// closed.
func (b *Baresip) ReceivedAudioFiles() []string { return b.sndFiles("-dec.wav") }

// SentAudioFiles lists the WAV files of sent audio, oldest first.
func (b *Baresip) SentAudioFiles() []string { return b.sndFiles("-enc.wav") }

func (b *Baresip) sndFiles(suffix string) []string {
	m, _ := filepath.Glob(filepath.Join(b.dir, "snd", "dump-*"+suffix))
	sort.Strings(m) // names carry a timestamp
	return m
}

// Stop quits baresip (ctrl_tcp "quit", then SIGTERM, then SIGKILL) and, with
// RecordFile set, copies the last received-audio file there.
func (b *Baresip) Stop() {
	b.stopOnce.Do(func() {
		select {
		case <-b.done:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, _ = b.Command(ctx, "quit", "")
			cancel()
			select {
			case <-b.done:
			case <-time.After(2 * time.Second):
				// a call still up makes the graceful quit wait
				_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGTERM)
				select {
				case <-b.done:
				case <-time.After(2 * time.Second):
					_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
					<-b.done
				}
			}
		}
		if b.conn != nil {
			b.conn.Close()
		}
		if b.opts.RecordFile != "" {
			if files := b.ReceivedAudioFiles(); len(files) > 0 {
				data, err := os.ReadFile(files[len(files)-1])
				if err == nil {
					err = os.WriteFile(b.opts.RecordFile, data, 0o644)
				}
				if err != nil {
					b.t.Errorf("testpeer: baresip RecordFile: %v", err)
				}
			}
		}
	})
}

// lockedBuffer is a goroutine-safe output sink.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// baresipModulePath finds baresip's module directory.
func baresipModulePath() string {
	cands := []string{os.Getenv("TEST_BARESIP_MODULES"),
		"/usr/lib/baresip/modules", "/usr/local/lib/baresip/modules",
		"/usr/lib/x86_64-linux-gnu/baresip/modules", "/usr/lib/aarch64-linux-gnu/baresip/modules",
		"/opt/homebrew/lib/baresip/modules"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "g711.so")); err == nil {
			return c
		}
	}
	return ""
}
