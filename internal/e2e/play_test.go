package e2e

import (
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// goertzel returns the relative power of freq in samples at rate.
func goertzel(samples []int16, rate int, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, x := range samples {
		s := float64(x) + k*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return p / float64(len(samples)*len(samples))
}

func rms(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// segments classifies each 100 ms window of a recording as silence, a
// tone at toneHz (most of its energy there), or other sound (speech).
func segments(w testpeer.WAV, toneHz float64) []byte {
	win := w.SampleRate / 10
	var out []byte
	for i := 0; i+win <= len(w.Samples); i += win {
		x := w.Samples[i : i+win]
		r := rms(x)
		switch {
		case r < 200:
			out = append(out, '.')
		case goertzel(x, w.SampleRate, toneHz) > 0.25*r*r:
			out = append(out, 'T')
		default:
			out = append(out, 'S')
		}
	}
	return out
}

// The app plays a WAV of a known tone and then a TTS sentence; the caller
// hears the tone first and speech after it, and the events say so.
func TestPlayFileAndSpeech(t *testing.T) {
	tone := testpeer.ToneWAV(1000, 1.0)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tone.wav":
			w.Header().Set("Content-Type", "audio/wav")
			w.Write(tone.Encode())
		default:
			http.NotFound(w, r)
		}
	}))
	defer files.Close()

	e := newEnv(t, serverOptions{})
	var u user
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": "frank"}, &u, 201)
	rec := filepath.Join(t.TempDir(), "heard.wav")
	b := testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: u.Username, Password: u.Password, Registrar: e.sb.sipAddr(), AutoAnswer: true, RecordFile: rec,
		PlayFile: silenceWAV(t, 30)})
	if err := b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	var props map[string]any
	e.op("createCall", map[string]any{"target": u.ID, "callbackUrl": e.app.CallbackURL("play")}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")

	e.op("playToAll", map[string]any{"callConnectionId": connID, "fileUrls": []string{files.URL + "/tone.wav"},
		"text": "Thank you for calling. Your appointment is confirmed for Tuesday.", "voiceName": "en-US-JennyNeural", "operationContext": "greeting"}, nil)
	started := e.callback(connID, "PlayStarted")
	done := e.callback(connID, "PlayCompleted")
	if started.OperationContext() != "greeting" || done.OperationContext() != "greeting" || started.Seq > done.Seq {
		t.Fatalf("events: %s/%s", started.OperationContext(), done.OperationContext())
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID, "forEveryone": true}, nil)
	if _, err := b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	b.Stop()
	w, err := testpeer.ReadWAV(rec)
	if err != nil {
		t.Fatal(err)
	}
	seg := string(segments(w, 1000))
	firstTone, lastTone, firstSpeech := -1, -1, -1
	tones, speech := 0, 0
	for i, c := range seg {
		switch c {
		case 'T':
			if firstTone < 0 {
				firstTone = i
			}
			lastTone = i
			tones++
		case 'S':
			if firstTone >= 0 && firstSpeech < 0 && i > lastTone {
				firstSpeech = i
			}
			speech++
		}
	}
	t.Logf("what the caller heard, per 100 ms: %s", seg)
	if tones < 7 || tones > 12 {
		t.Fatalf("heard %d00 ms of the 1 kHz tone, want about 1 s", tones)
	}
	if firstSpeech < 0 || speech < 10 {
		t.Fatalf("no speech after the tone (%d windows of speech)", speech)
	}
}

// silenceWAV writes a WAV of silence long enough that baresip does not
// hang up at its end.
func silenceWAV(t *testing.T, seconds int) string {
	path := filepath.Join(t.TempDir(), "silence.wav")
	w := testpeer.WAV{SampleRate: 8000, Channels: 1, Samples: make([]int16, 8000*seconds)}
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}
