package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// env is a switchboard server plus the SDK app subscribed to its events.
type env struct {
	t   *testing.T
	sb  *sbServer
	app *testpeer.NodeApp
}

func newEnv(t *testing.T, o serverOptions) *env {
	t.Helper()
	sb := startServer(t, o)
	app := testpeer.StartNodeApp(t, testpeer.NodeAppOptions{
		Endpoint:   sb.APIURL + "/",
		AccessKey:  accessKey,
		CAFile:     sb.CAFile,
		JWKSURL:    sb.APIURL + "/calling/keys",
		EventsFile: filepath.Join(t.TempDir(), "events.jsonl"),
	})
	e := &env{t: t, sb: sb, app: app}
	e.subscribe(app.EventGridURL())
	return e
}

// subscribe creates an Event Grid subscription and waits for its handshake.
func (e *env) subscribe(url string) {
	e.t.Helper()
	e.subscribeWith(map[string]any{"name": "app", "endpointUrl": url})
}

// subscribeWith creates the subscription body describes and waits for its
// handshake.
func (e *env) subscribeWith(body map[string]any) {
	e.t.Helper()
	var sub struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	e.sb.adminJSON("POST", "/admin/v1/eventSubscriptions", body, &sub, 201)
	waitFor(e.t, "subscription validated", 20*time.Second, func() bool {
		e.sb.adminJSON("GET", "/admin/v1/eventSubscriptions/"+sub.ID, nil, &sub, 200)
		return sub.State == "active"
	})
}

// incomingCall waits for the IncomingCall event of a call from caller.
func (e *env) incomingCall(caller string) testpeer.Event {
	e.t.Helper()
	ev, err := e.app.WaitEvent(ctxTimeout(e.t, 20*time.Second), func(ev testpeer.Event) bool {
		if ev.EventType != "Microsoft.Communication.IncomingCall" {
			return false
		}
		from, _ := ev.Data()["from"].(map[string]any)
		return from != nil && from["rawId"] == caller
	})
	if err != nil {
		e.t.Fatalf("no IncomingCall from %s: %v", caller, err)
	}
	return ev
}

// callback waits for a callback event the SDK parsed as kind for connID.
func (e *env) callback(connID, kind string) testpeer.Event {
	e.t.Helper()
	ev, err := e.app.WaitEvent(ctxTimeout(e.t, 30*time.Second), func(ev testpeer.Event) bool {
		return ev.Source == "callback" && ev.ParsedKind == kind && ev.CallConnectionID() == connID
	})
	if err != nil {
		e.t.Fatalf("no %s for %s: %v", kind, connID, err)
	}
	if !ev.JWTValid {
		e.t.Fatalf("%s: JWT did not verify against the published keys: %s", kind, ev.JWTError)
	}
	return ev
}

// callbacks lists the callback events of a call connection, in arrival order.
func (e *env) callbacks(connID string) []testpeer.Event {
	e.t.Helper()
	evs, err := e.app.Events(ctxTimeout(e.t, 10*time.Second), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []testpeer.Event
	for _, ev := range evs {
		if ev.Source == "callback" && ev.CallConnectionID() == connID {
			out = append(out, ev)
		}
	}
	return out
}

// op runs an SDK operation in the app and decodes its result.
func (e *env) op(name string, args map[string]any, out any) {
	e.t.Helper()
	raw := e.app.MustOp(ctxTimeout(e.t, 30*time.Second), name, args)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s result: %v: %s", name, err, raw)
		}
	}
}

// opError runs an SDK operation that must fail and returns the SDK's error.
func (e *env) opError(name string, args map[string]any) *testpeer.OpError {
	e.t.Helper()
	res, err := e.app.Op(ctxTimeout(e.t, 30*time.Second), name, args)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.OK || res.Error == nil {
		e.t.Fatalf("%s succeeded, want an error: %s", name, res.Result)
	}
	return res.Error
}

// answer answers an incoming call through the SDK and returns the connection id.
func (e *env) answer(ic testpeer.Event, cb string) string {
	e.t.Helper()
	var res map[string]any
	e.op("answerCall", map[string]any{"incomingCallContext": ic.DataString("incomingCallContext"), "callbackUrl": e.app.CallbackURL(cb)}, &res)
	id := findString(res, "callConnectionId")
	if id == "" {
		e.t.Fatalf("answerCall returned no callConnectionId: %v", res)
	}
	return id
}

// findString finds a string field anywhere in a decoded JSON value.
func findString(v any, key string) string {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x[key].(string); ok {
			return s
		}
		for _, vv := range x {
			if s := findString(vv, key); s != "" {
				return s
			}
		}
	case []any:
		for _, vv := range x {
			if s := findString(vv, key); s != "" {
				return s
			}
		}
	}
	return ""
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
