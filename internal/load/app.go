package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
)

// App is the Call Automation app under load: an HTTP server for the Event
// Grid subscription (/eventgrid), the call callbacks (/callbacks) and the
// prompt files (/prompt/…), and a signed REST client. For each call it
// answers, plays the current prompt once connected and hangs up when the
// play ends. Webhooks are answered at once; the REST calls they lead to run
// on goroutines that Close waits for.
type App struct {
	log *slog.Logger
	ln  net.Listener
	srv *http.Server
	url string // http://127.0.0.1:port

	api       atomic.Pointer[apiClient]
	promptURL atomic.Pointer[string]

	promptMu sync.RWMutex
	prompts  map[string][]byte // by URL path
	started  time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	st *AppStats
}

// AppStats is what the app saw during one run.
type AppStats struct {
	Validations   int            `json:"validations"`
	IncomingCalls int            `json:"incomingCalls"`
	Answered      int            `json:"answered"`
	Connected     int            `json:"connected"`
	PlayStarted   int            `json:"playStarted"`
	PlayCompleted int            `json:"playCompleted"`
	PlayFailed    int            `json:"playFailed"`
	HungUp        int            `json:"hungUp"`
	Disconnected  int            `json:"disconnected"`
	AnswerFailed  int            `json:"answerFailedEvents"`
	Errors        map[string]int `json:"errors,omitempty"` // "answer: 503" → count
	// Connections counts the TCP connections the server opened to the app
	// (webhook deliveries); many per call mean its client does not reuse
	// them.
	Connections int `json:"connections"`

	WebhookMS   []float64 `json:"-"` // every event: arrival − its time
	IncomingMS  []float64 `json:"-"` // IncomingCall only
	AnswerRTTMS []float64 `json:"-"` // answer request round trip

	// Calls are the call connections, by callConnectionId.
	Calls map[string]*AppCall `json:"-"`
}

// AppCall counts the events of one call connection.
type AppCall struct {
	Connected, PlayCompleted, PlayFailed, Disconnected int
	HungUp                                             bool
}

func newAppStats() *AppStats {
	return &AppStats{Errors: map[string]int{}, Calls: map[string]*AppCall{}}
}

// StartApp listens on 127.0.0.1 (a free port) and serves until Close.
func StartApp(log *slog.Logger) (*App, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("app: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &App{
		log: log, ln: ln, url: "http://" + ln.Addr().String(),
		prompts: map[string][]byte{}, started: time.Now().Truncate(time.Second),
		ctx: ctx, cancel: cancel, st: newAppStats(),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /eventgrid", a.eventGrid)
	mux.HandleFunc("POST /callbacks", a.callbacks)
	mux.HandleFunc("GET /prompt/", a.prompt)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				a.record(func(s *AppStats) { s.Connections++ })
			}
		}}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("app: serve", "err", err)
		}
	}()
	return a, nil
}

// URL is the app's base URL.
func (a *App) URL() string { return a.url }

// EventGridURL is the subscription endpoint.
func (a *App) EventGridURL() string { return a.url + "/eventgrid" }

// SetServer points the app's REST calls at a server.
func (a *App) SetServer(c *apiClient) { a.api.Store(c) }

// SetPrompt makes the app play a tone of length d from now on.
func (a *App) SetPrompt(d time.Duration) {
	path := fmt.Sprintf("/prompt/tone-%dms.wav", d.Milliseconds())
	a.promptMu.Lock()
	if _, ok := a.prompts[path]; !ok {
		a.prompts[path] = promptWAV(d)
	}
	a.promptMu.Unlock()
	u := a.url + path
	a.promptURL.Store(&u)
}

// Snapshot returns the statistics since the last Snapshot and starts anew.
func (a *App) Snapshot() *AppStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.st
	a.st = newAppStats()
	return st
}

// Close stops the HTTP server and waits for requests in flight.
func (a *App) Close() error {
	a.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := a.srv.Shutdown(ctx)
	a.wg.Wait()
	if c := a.api.Load(); c != nil {
		c.close()
	}
	if err != nil {
		return fmt.Errorf("app: shutdown: %w", err)
	}
	return nil
}

func (a *App) record(f func(st *AppStats)) {
	a.mu.Lock()
	f(a.st)
	a.mu.Unlock()
}

func (a *App) fail(what string, status int, err error) {
	key := fmt.Sprintf("%s: %d", what, status)
	if err != nil {
		key = what + ": " + errorClass(err)
	}
	a.record(func(st *AppStats) { st.Errors[key]++ })
}

// errorClass shortens a transport error to a stable label.
func errorClass(err error) string {
	switch s := err.Error(); {
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(s, "Timeout"):
		return "timeout"
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "connection reset"):
		return "connection reset"
	default:
		return "transport error"
	}
}

// goAsync runs f on a goroutine that Close waits for, unless closing.
func (a *App) goAsync(f func(ctx context.Context)) {
	if a.ctx.Err() != nil {
		return
	}
	a.wg.Go(func() { f(a.ctx) })
}

func (a *App) prompt(w http.ResponseWriter, r *http.Request) {
	a.promptMu.RLock()
	b, ok := a.prompts[r.URL.Path]
	a.promptMu.RUnlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("ETag", fmt.Sprintf(`"%s-%d"`, strings.TrimPrefix(r.URL.Path, "/prompt/"), len(b)))
	http.ServeContent(w, r, "", a.started, bytes.NewReader(b))
}

// eventGridEvent is the part of an Event Grid schema event the app reads.
type eventGridEvent struct {
	EventType string          `json:"eventType"`
	EventTime string          `json:"eventTime"`
	Data      json.RawMessage `json:"data"`
}

func (a *App) eventGrid(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	var evs []eventGridEvent
	if err := json.Unmarshal(body, &evs); err != nil {
		http.Error(w, "not an Event Grid array", http.StatusBadRequest)
		return
	}
	if r.Header.Get("aeg-event-type") == "SubscriptionValidation" {
		for _, ev := range evs {
			var d struct {
				ValidationCode string `json:"validationCode"`
			}
			if json.Unmarshal(ev.Data, &d) == nil && d.ValidationCode != "" {
				a.record(func(st *AppStats) { st.Validations++ })
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]string{"validationResponse": d.ValidationCode})
				return
			}
		}
		http.Error(w, "no validation code", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	for _, ev := range evs {
		if ev.EventType != acs.EventTypePrefix+acs.EventIncomingCall {
			continue
		}
		var d acs.IncomingCallData
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.IncomingCallContext == "" {
			a.fail("incomingCall data", 0, fmt.Errorf("bad IncomingCall data: %v", err))
			continue
		}
		lat := latencyMS(arrived, ev.EventTime)
		a.record(func(st *AppStats) {
			st.IncomingCalls++
			if lat >= 0 {
				st.WebhookMS = append(st.WebhookMS, lat)
				st.IncomingMS = append(st.IncomingMS, lat)
			}
		})
		icc := d.IncomingCallContext
		a.goAsync(func(ctx context.Context) { a.answer(ctx, icc) })
	}
}

// latencyMS is arrived − the event's RFC 3339 time in milliseconds, or −1.
func latencyMS(arrived time.Time, eventTime string) float64 {
	t, err := time.Parse(time.RFC3339Nano, eventTime)
	if err != nil {
		return -1
	}
	return float64(arrived.Sub(t)) / float64(time.Millisecond)
}

// cloudEvent is the part of a callback CloudEvent the app reads.
type cloudEvent struct {
	Type string          `json:"type"`
	Time string          `json:"time"`
	Data json.RawMessage `json:"data"`
}

func (a *App) callbacks(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	var evs []cloudEvent
	if err := json.Unmarshal(body, &evs); err != nil {
		http.Error(w, "not a CloudEvents array", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	for _, ev := range evs {
		var d acs.CallEventData
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.CallConnectionID == "" {
			a.fail("callback data", 0, fmt.Errorf("bad %s data: %v", ev.Type, err))
			continue
		}
		id := d.CallConnectionID
		name := strings.TrimPrefix(ev.Type, acs.EventTypePrefix)
		lat := latencyMS(arrived, ev.Time)
		a.record(func(st *AppStats) {
			if lat >= 0 {
				st.WebhookMS = append(st.WebhookMS, lat)
			}
			c := st.Calls[id]
			if c == nil {
				c = &AppCall{}
				st.Calls[id] = c
			}
			switch name {
			case acs.EventCallConnected:
				st.Connected++
				c.Connected++
			case "PlayCompleted":
				st.PlayCompleted++
				c.PlayCompleted++
			case "PlayFailed":
				st.PlayFailed++
				c.PlayFailed++
			case acs.EventCallDisconnected:
				st.Disconnected++
				c.Disconnected++
			case acs.EventAnswerFailed:
				st.AnswerFailed++
			}
		})
		switch name {
		case acs.EventCallConnected:
			a.goAsync(func(ctx context.Context) { a.play(ctx, id) })
		case "PlayCompleted", "PlayFailed":
			a.goAsync(func(ctx context.Context) { a.hangUp(ctx, id) })
		}
	}
}

func (a *App) answer(ctx context.Context, incomingCallContext string) {
	c := a.api.Load()
	if c == nil {
		a.fail("answer", 0, errors.New("no server"))
		return
	}
	body, err := json.Marshal(acs.AnswerCallRequest{IncomingCallContext: incomingCallContext, CallbackURI: a.url + "/callbacks"})
	if err != nil {
		a.fail("answer", 0, err)
		return
	}
	start := time.Now()
	st, _, err := c.do(ctx, http.MethodPost, "/calling/callConnections:answer?api-version="+APIVersion, body)
	rtt := float64(time.Since(start)) / float64(time.Millisecond)
	if err != nil || st != http.StatusOK {
		a.fail("answer", st, err)
		return
	}
	a.record(func(s *AppStats) {
		s.Answered++
		s.AnswerRTTMS = append(s.AnswerRTTMS, rtt)
	})
}

func (a *App) play(ctx context.Context, id string) {
	c, u := a.api.Load(), a.promptURL.Load()
	if c == nil || u == nil {
		a.fail("play", 0, errors.New("no server or prompt"))
		return
	}
	body, err := json.Marshal(acs.PlayRequest{PlaySources: []acs.PlaySource{{Kind: "file", File: &acs.FileSource{URI: *u}}}, OperationContext: "sbload"})
	if err != nil {
		a.fail("play", 0, err)
		return
	}
	st, _, err := c.do(ctx, http.MethodPost, "/calling/callConnections/"+url.PathEscape(id)+":play?api-version="+APIVersion, body)
	if err != nil || st != http.StatusAccepted {
		a.fail("play", st, err)
		return
	}
	a.record(func(s *AppStats) { s.PlayStarted++ })
}

func (a *App) hangUp(ctx context.Context, id string) {
	c := a.api.Load()
	if c == nil {
		a.fail("hangUp", 0, errors.New("no server"))
		return
	}
	st, _, err := c.do(ctx, http.MethodDelete, "/calling/callConnections/"+url.PathEscape(id)+"?api-version="+APIVersion, nil)
	if err != nil || st != http.StatusNoContent {
		a.fail("hangUp", st, err)
		return
	}
	a.record(func(s *AppStats) {
		s.HungUp++
		if c := s.Calls[id]; c != nil {
			c.HungUp = true
		}
	})
}
