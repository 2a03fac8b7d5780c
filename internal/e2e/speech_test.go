//go:build pocketsphinx

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/speech/stt/sttest"
	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// The caller's voice: espeak-ng in a voice other than the server's prompts,
// carried as G.711 µ-law by baresip.
var callerVoice = sttest.Voice{Name: "en-us+m3", Speed: 150}

// speaker is a registered baresip user whose microphone is a WAV file:
// lead of silence, then the utterance, then silence (baresip hangs up when
// its file ends, so the tail keeps the call up).
type speaker struct {
	u   user
	b   *testpeer.Baresip
	rec string
}

func startSpeaker(t *testing.T, e *env, name string, lead time.Duration, utterance []int16) *speaker {
	t.Helper()
	s := &speaker{}
	e.sb.adminJSON("POST", "/admin/v1/users", map[string]any{"username": name}, &s.u, 201)
	dir := t.TempDir()
	play := filepath.Join(dir, "say.wav")
	pcm := sttest.Concat(sttest.Silence(lead), utterance, sttest.Silence(20*time.Second))
	if err := (testpeer.WAV{SampleRate: 8000, Channels: 1, Samples: pcm}).WriteFile(play); err != nil {
		t.Fatal(err)
	}
	s.rec = filepath.Join(dir, "heard.wav")
	s.b = testpeer.StartBaresip(t, testpeer.BaresipOptions{SIPUser: s.u.Username, Password: s.u.Password, Registrar: e.sb.sipAddr(),
		AutoAnswer: true, PlayFile: play, RecordFile: s.rec})
	if err := s.b.WaitRegistered(ctxTimeout(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	return s
}

// callSpeaker places a call to the speaker and returns the connection id.
func callSpeaker(t *testing.T, e *env, s *speaker, cb string) string {
	t.Helper()
	var props map[string]any
	e.op("createCall", map[string]any{"target": s.u.ID, "callbackUrl": e.app.CallbackURL(cb)}, &props)
	connID := props["callConnectionId"].(string)
	e.callback(connID, "CallConnected")
	return connID
}

var menu = []map[string]any{
	{"label": "Billing", "phrases": []string{"billing"}},
	{"label": "Sales", "phrases": []string{"sales"}},
	{"label": "Support", "phrases": []string{"support"}},
	{"label": "Operator", "phrases": []string{"operator"}},
	{"label": "Yes", "phrases": []string{"yes"}},
	{"label": "No", "phrases": []string{"no"}, "tone": "two"},
}

// recognizeOutcome waits for the recognize operation's terminal event.
func recognizeOutcome(t *testing.T, e *env, opContext string) testpeer.Event {
	t.Helper()
	ev, err := e.app.WaitEvent(ctxTimeout(t, 40*time.Second), func(ev testpeer.Event) bool {
		return ev.OperationContext() == opContext && strings.HasPrefix(ev.ParsedKind, "Recognize")
	})
	if err != nil {
		t.Fatalf("no recognize outcome for %s: %v", opContext, err)
	}
	return ev
}

func subCode(ev testpeer.Event) float64 {
	ri, _ := ev.Data()["resultInformation"].(map[string]any)
	v, _ := ri["subCode"].(float64)
	return v
}

// A caller says one word of a menu; the choice with that phrase is the
// result. Words that are not on the menu are a no-match (8547), not the
// nearest choice.
func TestRecognizeChoicesBySpeech(t *testing.T) {
	espeak := sttest.Espeak(t)
	e := newEnv(t, serverOptions{})
	strangers := map[string]bool{"representative": true, "good morning": true}
	for _, word := range []string{"billing", "sales", "support", "operator", "yes", "no", "representative", "good morning"} {
		name := strings.ReplaceAll(word, " ", "-")
		s := startSpeaker(t, e, "caller-"+name, 2*time.Second, sttest.Say(t, espeak, callerVoice, word))
		connID := callSpeaker(t, e, s, "choices-"+name)
		e.op("startRecognizing", map[string]any{"callConnectionId": connID, "rawId": s.u.ID, "operationContext": "menu-" + name,
			"options": map[string]any{"kind": "callMediaRecognizeChoiceOptions", "choices": menu, "initialSilenceTimeoutInSeconds": 10, "speechLanguage": "en-US"}}, nil)
		ev := recognizeOutcome(t, e, "menu-"+name)
		if strangers[word] {
			if ev.ParsedKind != "RecognizeFailed" || subCode(ev) != 8547 || ev.Data()["choiceResult"] != nil {
				t.Fatalf("%q, not on the menu: %s %v; want RecognizeFailed 8547", word, ev.ParsedKind, ev.Data())
			}
			e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
			s.b.Stop()
			continue
		}
		cr, _ := ev.Data()["choiceResult"].(map[string]any)
		if ev.ParsedKind != "RecognizeCompleted" || ev.Data()["recognitionType"] != "choices" || !strings.EqualFold(cr["label"].(string), word) || subCode(ev) != 8545 {
			t.Fatalf("%q: %s %v", word, ev.ParsedKind, ev.Data())
		}
		if word == "operator" {
			// A language no configured engine handles is refused at once.
			oe := e.opError("startRecognizing", map[string]any{"callConnectionId": connID, "rawId": s.u.ID,
				"options": map[string]any{"kind": "callMediaRecognizeSpeechOptions", "speechLanguage": "fr-FR"}})
			if oe.StatusCode != 400 || !strings.Contains(oe.Message, "fr-FR") {
				t.Fatalf("speechLanguage fr-FR: %d %s", oe.StatusCode, oe.Message)
			}
		}
		e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
		s.b.Stop()
	}
}

// Free speech gives a transcript close to what was said.
func TestRecognizeSpeech(t *testing.T) {
	espeak := sttest.Espeak(t)
	e := newEnv(t, serverOptions{})
	const said = "can you help me with my order"
	s := startSpeaker(t, e, "talker", 2*time.Second, sttest.Say(t, espeak, callerVoice, said))
	connID := callSpeaker(t, e, s, "speech")
	e.op("startRecognizing", map[string]any{"callConnectionId": connID, "rawId": s.u.ID, "operationContext": "free",
		"options": map[string]any{"kind": "callMediaRecognizeSpeechOptions", "endSilenceTimeoutInSeconds": 1, "initialSilenceTimeoutInSeconds": 10}}, nil)
	ev := recognizeOutcome(t, e, "free")
	sr, _ := ev.Data()["speechResult"].(map[string]any)
	text, _ := sr["speech"].(string)
	if ev.ParsedKind != "RecognizeCompleted" || ev.Data()["recognitionType"] != "speech" {
		t.Fatalf("%s %v", ev.ParsedKind, ev.Data())
	}
	// PocketSphinx's general model on synthetic 8 kHz speech: the measured
	// word error rate on this sentence is about 0.6 (docs/SPEECH.md).
	if wer := sttest.WER(said, text); wer > 0.8 {
		t.Fatalf("heard %q for %q: word error rate %.2f", text, said, wer)
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
}

// speechOrDtmf: a spoken answer is a speech result; tones are a DTMF result.
func TestRecognizeSpeechOrDtmf(t *testing.T) {
	espeak := sttest.Espeak(t)
	e := newEnv(t, serverOptions{})
	s := startSpeaker(t, e, "either", 2*time.Second, sttest.Say(t, espeak, callerVoice, "can you help me with my order"))
	connID := callSpeaker(t, e, s, "either")
	opts := map[string]any{"kind": "callMediaRecognizeSpeechOrDtmfOptions", "maxTonesToCollect": 1, "endSilenceTimeoutInSeconds": 1, "initialSilenceTimeoutInSeconds": 10}
	e.op("startRecognizing", map[string]any{"callConnectionId": connID, "rawId": s.u.ID, "operationContext": "voice", "options": opts}, nil)
	if ev := recognizeOutcome(t, e, "voice"); ev.ParsedKind != "RecognizeCompleted" || ev.Data()["recognitionType"] != "speech" {
		t.Fatalf("spoken answer: %s %v", ev.ParsedKind, ev.Data())
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)

	// A SIPp caller that answers with tones (RFC 4733, then SIP INFO).
	id, sipp := answeredCallFrom(t, e, "uac_dtmf.xml", "tones")
	e.op("startRecognizing", map[string]any{"callConnectionId": id, "rawId": "4:" + caller, "operationContext": "keys", "options": opts}, nil)
	digitsSent(t, sipp)
	ev := recognizeOutcome(t, e, "keys")
	dr, _ := ev.Data()["dtmfResult"].(map[string]any)
	if ev.ParsedKind != "RecognizeCompleted" || ev.Data()["recognitionType"] != "dtmf" || len(dr["tones"].([]any)) != 1 {
		t.Fatalf("tones: %s %v", ev.ParsedKind, ev.Data())
	}
	e.op("hangUp", map[string]any{"callConnectionId": id}, nil)
	sipp.WaitSuccess(ctxTimeout(t, 20*time.Second))
}

// Barge-in: a caller who starts speaking stops the prompt; the recording
// of what the caller heard has the prompt's tone before the speech and none
// from a few hundred milliseconds after it began. Silence gives the initial-silence failure.
func TestRecognizeBargeInAndSilence(t *testing.T) {
	espeak := sttest.Espeak(t)
	files := fileServer(t) // tone.wav: a long 1 kHz tone
	e := newEnv(t, serverOptions{})
	lead := 3 * time.Second
	s := startSpeaker(t, e, "barger", lead, sttest.Say(t, espeak, callerVoice, "operator"))
	connID := callSpeaker(t, e, s, "barge")
	e.op("startRecognizing", map[string]any{"callConnectionId": connID, "rawId": s.u.ID, "operationContext": "barge",
		"fileUrls": []string{files.URL + "/long-tone.wav"},
		"options":  map[string]any{"kind": "callMediaRecognizeChoiceOptions", "choices": menu, "interruptPrompt": true, "initialSilenceTimeoutInSeconds": 10}}, nil)
	ev := recognizeOutcome(t, e, "barge")
	if ev.ParsedKind != "RecognizeCompleted" {
		t.Fatalf("barge-in: %s %v", ev.ParsedKind, ev.Data())
	}
	e.op("hangUp", map[string]any{"callConnectionId": connID}, nil)
	if _, err := s.b.WaitEvent(ctxTimeout(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	s.b.Stop()
	w := heard(t, s.rec, map[byte]float64{'A': 1000})
	// Windows are 200 ms; the utterance starts at lead (the call and the
	// recording start together, give or take the answer's round trip).
	start := int(lead / (200 * time.Millisecond))
	before, after := 0, 0
	for i, x := range w {
		switch {
		case i < start-2 && x == "A":
			before++
		case i > start+3 && x == "A": // 600 ms after the speech began (measured: under 300 ms)
			after++
		}
	}
	if before < 5 || after > 0 {
		t.Fatalf("prompt tone: %d windows before the speech, %d long after it: %v", before, after, w)
	}

	// Nobody speaks: initial silence.
	q := startSpeaker(t, e, "quiet", time.Second, nil)
	qid := callSpeaker(t, e, q, "quiet")
	e.op("startRecognizing", map[string]any{"callConnectionId": qid, "rawId": q.u.ID, "operationContext": "quiet",
		"options": map[string]any{"kind": "callMediaRecognizeSpeechOptions", "initialSilenceTimeoutInSeconds": 2}}, nil)
	if ev := recognizeOutcome(t, e, "quiet"); ev.ParsedKind != "RecognizeFailed" || subCode(ev) != 8510 {
		t.Fatalf("silence: %s %v", ev.ParsedKind, ev.Data())
	}
	e.op("hangUp", map[string]any{"callConnectionId": qid}, nil)
}
