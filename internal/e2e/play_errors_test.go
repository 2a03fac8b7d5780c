package e2e

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// fileServer serves the audio files the play tests use.
func fileServer(t *testing.T) *httptest.Server {
	tone := testpeer.ToneWAV(440, 3.0).Encode()
	longTone := testpeer.ToneWAV(1000, 12.0).Encode()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tone.wav":
			w.Write(tone)
		case "/long-tone.wav": // a prompt long enough to be interrupted
			w.Write(longTone)
		case "/notes.wav": // a text file with an audio name
			w.Write([]byte("these are my meeting notes, not audio\n"))
		case "/huge.wav": // bigger than media.promptMaxFileBytes, no Content-Length
			w.(http.Flusher).Flush()
			chunk := bytes.Repeat([]byte{1}, 1<<20)
			for i := 0; i < 40; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// answeredCall starts a SIPp caller (uac_call.xml) and answers it; it
// returns the connection id and SIPp.
func answeredCall(t *testing.T, e *env, name string) (string, *testpeer.SIPpRun) {
	return answeredCallFrom(t, e, "uac_call.xml", name)
}

// answeredCallFrom is answeredCall with another caller scenario.
func answeredCallFrom(t *testing.T, e *env, scenario, name string) (string, *testpeer.SIPpRun) {
	sipp := startCaller(t, e.sb, scenario, nil)
	connID := e.answer(e.incomingCall("4:"+caller), name)
	e.callback(connID, "CallConnected")
	return connID, sipp
}

// Bad play sources give PlayFailed with the matching subcode and source
// index, and the call goes on.
func TestPlayFailures(t *testing.T) {
	files := fileServer(t)
	e := newEnv(t, serverOptions{})
	connID, sipp := answeredCall(t, e, "failures")
	cases := []struct {
		ctx     string
		args    map[string]any
		subCode float64
		index   float64
	}{
		{"missing", map[string]any{"fileUrls": []string{files.URL + "/tone.wav", files.URL + "/missing.wav"}}, 8536, 1},
		{"not-audio", map[string]any{"fileUrls": []string{files.URL + "/notes.wav"}}, 8535, 0},
		{"huge", map[string]any{"fileUrls": []string{files.URL + "/huge.wav"}}, 8536, 0},
		{"unreachable", map[string]any{"fileUrls": []string{"http://127.0.0.1:9/x.wav"}}, 8536, 0},
		{"bad-ssml", map[string]any{"ssml": "<speak><voice name='en-US-JennyNeural'>unclosed</speak>"}, 8565, 0},
	}
	for _, c := range cases {
		args := map[string]any{"callConnectionId": connID, "operationContext": c.ctx}
		for k, v := range c.args {
			args[k] = v
		}
		e.op("playToAll", args, nil)
		ev, err := e.app.WaitEvent(ctxTimeout(t, 30*time.Second), func(ev testpeer.Event) bool {
			return ev.ParsedKind == "PlayFailed" && ev.OperationContext() == c.ctx
		})
		if err != nil {
			t.Fatalf("%s: no PlayFailed: %v", c.ctx, err)
		}
		d := ev.Data()
		ri, _ := d["resultInformation"].(map[string]any)
		if ri["subCode"] != c.subCode || d["failedPlaySourceIndex"] != c.index {
			t.Fatalf("%s: PlayFailed = %v", c.ctx, d)
		}
	}
	// A participant who is not in the call is refused at once.
	oe := e.opError("play", map[string]any{"callConnectionId": connID, "fileUrls": []string{files.URL + "/tone.wav"}, "playTo": []string{"4:+19999999999"}})
	if oe.StatusCode != 400 {
		t.Fatalf("play to a stranger: %d %s", oe.StatusCode, oe.Message)
	}
	// The call went on: a good play to the caller still completes.
	e.op("play", map[string]any{"callConnectionId": connID, "fileUrls": []string{files.URL + "/tone.wav"}, "playTo": []string{"4:" + caller}, "operationContext": "good"}, nil)
	if _, err := e.app.WaitEvent(ctxTimeout(t, 30*time.Second), func(ev testpeer.Event) bool {
		return ev.ParsedKind == "PlayCompleted" && ev.OperationContext() == "good"
	}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range e.callbacks(connID) {
		if ev.ParsedKind == "PlayStarted" && ev.OperationContext() != "good" && ev.OperationContext() != "missing" {
			t.Fatalf("PlayStarted for failed play %s", ev.OperationContext())
		}
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// cancelAllMediaOperations with one play running and two queued ends all
// three with PlayCanceled; hanging up mid-play gives each operation exactly
// one terminal event before CallDisconnected.
func TestCancelAndHangUpMidPlay(t *testing.T) {
	files := fileServer(t)
	e := newEnv(t, serverOptions{})
	connID, sipp := answeredCall(t, e, "cancel")
	for _, ctx := range []string{"a", "b", "c"} {
		e.op("playToAll", map[string]any{"callConnectionId": connID, "fileUrls": []string{files.URL + "/tone.wav"}, "loop": true, "operationContext": ctx}, nil)
	}
	e.callback(connID, "PlayStarted")
	e.op("cancelAllMediaOperations", map[string]any{"callConnectionId": connID}, nil)
	var canceled []string
	waitFor(t, "three PlayCanceled", 20*time.Second, func() bool {
		canceled = canceled[:0]
		for _, ev := range e.callbacks(connID) {
			if ev.ParsedKind == "PlayCanceled" {
				canceled = append(canceled, ev.OperationContext())
			}
		}
		return len(canceled) >= 3
	})
	if strings.Join(canceled, ",") != "a,b,c" {
		t.Fatalf("PlayCanceled for %v", canceled)
	}

	for _, ctx := range []string{"d", "e"} {
		e.op("playToAll", map[string]any{"callConnectionId": connID, "fileUrls": []string{files.URL + "/tone.wav"}, "loop": true, "operationContext": ctx}, nil)
	}
	waitFor(t, "d to start", 20*time.Second, func() bool {
		for _, ev := range e.callbacks(connID) {
			if ev.ParsedKind == "PlayStarted" && ev.OperationContext() == "d" {
				return true
			}
		}
		return false
	})
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	e.callback(connID, "CallDisconnected")
	time.Sleep(500 * time.Millisecond)
	terminal := map[string]int{}
	var order []string
	for _, ev := range e.callbacks(connID) {
		switch ev.ParsedKind {
		case "PlayCompleted", "PlayFailed", "PlayCanceled":
			terminal[ev.OperationContext()]++
			order = append(order, ev.OperationContext())
		case "CallDisconnected":
			order = append(order, "disconnected")
		}
	}
	for _, ctx := range []string{"a", "b", "c", "d", "e"} {
		if terminal[ctx] != 1 {
			t.Fatalf("operation %s had %d terminal events (%v)", ctx, terminal[ctx], order)
		}
	}
	if order[len(order)-1] != "disconnected" {
		t.Fatalf("terminal events after CallDisconnected: %v", order)
	}
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}
