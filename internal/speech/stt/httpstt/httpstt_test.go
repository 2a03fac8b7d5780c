package httpstt

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/sttest"
)

// request is what the fake provider received.
type request struct {
	path, auth, contentType string
	fields                  map[string]string
	fileName                string
	wav                     []byte
}

// provider is a fake transcription endpoint answering with status and
// body (after delay).
type provider struct {
	*httptest.Server
	mu     sync.Mutex
	got    []request
	status int
	body   string
	delay  time.Duration
	hits   atomic.Int32
}

func newProvider(t *testing.T, status int, body string) *provider {
	p := &provider{status: status, body: body}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		req := request{path: r.URL.Path, auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"), fields: map[string]string{}}
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			t.Errorf("provider: %v", err)
		} else {
			for k, v := range r.MultipartForm.Value {
				req.fields[k] = v[0]
			}
			if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
				req.fileName = fh[0].Filename
				f, _ := fh[0].Open()
				req.wav, _ = io.ReadAll(f)
				f.Close()
			}
		}
		p.mu.Lock()
		p.got = append(p.got, req)
		p.mu.Unlock()
		if p.delay > 0 {
			select {
			case <-time.After(p.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(p.status)
		io.WriteString(w, p.body)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *provider) last(t *testing.T) request {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.got) == 0 {
		t.Fatal("no request reached the provider")
	}
	return p.got[len(p.got)-1]
}

// speechLike is 1.5 s of a voiced-sounding tone between pauses, which the
// voice-activity gate takes for speech.
func speechLike() []int16 {
	tone := make([]int16, sttest.Samples(1500*time.Millisecond))
	for i := range tone {
		x := float64(i) / sttest.Rate
		tone[i] = int16(5000 * (math.Sin(2*math.Pi*180*x) + 0.5*math.Sin(2*math.Pi*540*x)) / 1.5)
	}
	return sttest.Concat(sttest.Noise(300*time.Millisecond, 20, 1), tone, sttest.Noise(500*time.Millisecond, 20, 2))
}

func run(t *testing.T, e stt.Engine, opts stt.Options, pcm []int16) (stt.Result, error) {
	t.Helper()
	s, err := e.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer s.Close()
	for _, f := range sttest.Frames(pcm) {
		if err := s.Write(f); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Finish(ctx)
}

// checkWAV checks a canonical 8 kHz mono 16-bit WAV and returns its
// samples.
func checkWAV(t *testing.T, b []byte, rate int) []int16 {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a canonical WAV: % x", b[:min(len(b), 44)])
	}
	if le.Uint32(b[4:]) != uint32(len(b)-8) || le.Uint32(b[40:]) != uint32(len(b)-44) {
		t.Fatalf("WAV sizes %d/%d for %d bytes", le.Uint32(b[4:]), le.Uint32(b[40:]), len(b))
	}
	if le.Uint16(b[20:]) != 1 || le.Uint16(b[22:]) != 1 || le.Uint32(b[24:]) != uint32(rate) ||
		le.Uint32(b[28:]) != uint32(2*rate) || le.Uint16(b[32:]) != 2 || le.Uint16(b[34:]) != 16 {
		t.Fatalf("WAV format: % x", b[20:36])
	}
	out := make([]int16, (len(b)-44)/2)
	for i := range out {
		out[i] = int16(le.Uint16(b[44+2*i:]))
	}
	return out
}

func TestFreeSpeechRequestAndAnswer(t *testing.T) {
	p := newProvider(t, 200, `{"text":"  Please transfer me to billing. "}`)
	e, err := New(Options{BaseURL: p.URL + "/v1/", APIKey: "sk-test", Model: "whisper-large", Prompt: "A phone call."}, p.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pcm := speechLike()
	res, err := run(t, e, stt.Options{Language: "en-GB"}, pcm)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "Please transfer me to billing." || res.Confidence != 1 || res.PhraseIndex != -1 || res.Phrase != "" {
		t.Fatalf("result %+v", res)
	}
	if res.Stats.Audio != time.Duration(len(pcm))*time.Second/sttest.Rate {
		t.Errorf("Stats.Audio %v", res.Stats.Audio)
	}
	r := p.last(t)
	if r.path != "/v1/audio/transcriptions" || r.auth != "Bearer sk-test" || !strings.HasPrefix(r.contentType, "multipart/form-data; boundary=") {
		t.Errorf("request %s, auth %q, content type %q", r.path, r.auth, r.contentType)
	}
	want := map[string]string{"model": "whisper-large", "language": "en", "response_format": "json", "prompt": "A phone call."}
	for k, v := range want {
		if r.fields[k] != v {
			t.Errorf("field %s = %q, want %q", k, r.fields[k], v)
		}
	}
	if r.fileName != "utterance.wav" {
		t.Errorf("file name %q", r.fileName)
	}
	if got := checkWAV(t, r.wav, 8000); !slices.Equal(got, pcm) {
		t.Errorf("the WAV holds %d samples, not the %d written", len(got), len(pcm))
	}
}

func TestGrammarMatching(t *testing.T) {
	phrases := []string{"Billing", "Sales", "Customer Service"}
	for _, c := range []struct {
		answer string
		index  int
		minC   float64
	}{
		{`{"text":"Billing."}`, 0, 1},
		{`{"text":"Customer service, please"}`, 2, 0.75},
		{`{"text":"um, sales"}`, 1, 0.75},
		{`{"text":"I want sales, not billing"}`, -1, 0}, // ambiguous
		{`{"text":"What's the weather?"}`, -1, 0},
		{`{"text":""}`, -1, 0},
		{`{"text":" … "}`, -1, 0},
	} {
		t.Run(c.answer, func(t *testing.T) {
			p := newProvider(t, 200, c.answer)
			e, _ := New(Options{BaseURL: p.URL}, p.Client(), nil)
			res, err := run(t, e, stt.Options{Language: "en-US", Phrases: phrases}, speechLike())
			if c.index < 0 {
				if !errors.Is(err, stt.ErrNoMatch) || res.PhraseIndex != -1 {
					t.Fatalf("got %+v, %v; want ErrNoMatch", res, err)
				}
				return
			}
			if err != nil || res.PhraseIndex != c.index || res.Phrase != phrases[c.index] || res.Confidence < c.minC {
				t.Fatalf("got %+v, %v; want phrase %d with confidence ≥ %.2f", res, err, c.index, c.minC)
			}
			if got := p.last(t).fields["prompt"]; got != "Billing, Sales, Customer Service." {
				t.Errorf("prompt %q", got)
			}
		})
	}
}

func TestSegmentsGiveTheConfidence(t *testing.T) {
	p := newProvider(t, 200, `{"text":"hello","segments":[{"avg_logprob":-0.1},{"avg_logprob":-0.3}]}`)
	e, _ := New(Options{BaseURL: p.URL}, p.Client(), nil)
	res, err := run(t, e, stt.Options{Language: "en-US"}, speechLike())
	if err != nil || math.Abs(res.Confidence-math.Exp(-0.2)) > 1e-9 {
		t.Fatalf("got %+v, %v; want confidence exp(-0.2)", res, err)
	}
}

func TestSilenceIsNoMatchWithoutARequest(t *testing.T) {
	p := newProvider(t, 200, `{"text":"Thank you."}`)
	e, _ := New(Options{BaseURL: p.URL}, p.Client(), nil)
	for name, pcm := range map[string][]int16{
		"silence": sttest.Silence(2 * time.Second),
		"noise":   sttest.PhoneLine(sttest.Noise(2*time.Second, 800, 3)),
		"clicks":  sttest.Clicks(2*time.Second, 200*time.Millisecond, 20000),
	} {
		if _, err := run(t, e, stt.Options{Language: "en-US"}, pcm); !errors.Is(err, stt.ErrNoMatch) {
			t.Errorf("%s: %v, want ErrNoMatch", name, err)
		}
	}
	if n := p.hits.Load(); n != 0 {
		t.Fatalf("%d requests for utterances without speech", n)
	}
	ungated, _ := New(Options{BaseURL: p.URL, NoSpeechGate: true}, p.Client(), nil)
	if res, err := run(t, ungated, stt.Options{Language: "en-US"}, sttest.Silence(time.Second)); err != nil || res.Text != "Thank you." {
		t.Fatalf("without the gate: %+v, %v", res, err)
	}
}

func TestProviderErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		delay  time.Duration
		check  func(t *testing.T, err error)
	}{
		{"500", 500, `{"error":{"message":"model overloaded","type":"server_error"}}`, 0, func(t *testing.T, err error) {
			var pe *ProviderError
			if !errors.As(err, &pe) || pe.Status != 500 || pe.Message != "model overloaded" || !errors.Is(err, stt.ErrFailed) {
				t.Fatalf("%v (%T)", err, err)
			}
		}},
		{"401", 401, `{"detail":"bad key"}`, 0, func(t *testing.T, err error) {
			var pe *ProviderError
			if !errors.As(err, &pe) || pe.Status != 401 || !strings.Contains(err.Error(), "bad key") {
				t.Fatalf("%v", err)
			}
		}},
		{"bad JSON", 200, `<html>oops</html>`, 0, func(t *testing.T, err error) {
			if !errors.Is(err, stt.ErrFailed) || !strings.Contains(err.Error(), "oops") {
				t.Fatalf("%v", err)
			}
		}},
		{"no text", 200, `{"result":"hello"}`, 0, func(t *testing.T, err error) {
			if !errors.Is(err, stt.ErrFailed) || !strings.Contains(err.Error(), `no "text"`) {
				t.Fatalf("%v", err)
			}
		}},
		{"timeout", 200, `{"text":"late"}`, 2 * time.Second, func(t *testing.T, err error) {
			if !errors.Is(err, stt.ErrFailed) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%v", err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProvider(t, c.status, c.body)
			p.delay = c.delay
			e, _ := New(Options{BaseURL: p.URL, Timeout: 100 * time.Millisecond}, p.Client(), nil)
			start := time.Now()
			_, err := run(t, e, stt.Options{Language: "en-US"}, speechLike())
			c.check(t, err)
			if time.Since(start) > time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
}

func TestUnreachableProviderIsUnavailable(t *testing.T) {
	p := newProvider(t, 200, `{}`)
	url := p.URL
	p.Close()
	e, _ := New(Options{BaseURL: url}, nil, nil)
	if _, err := run(t, e, stt.Options{Language: "en-US"}, speechLike()); !errors.Is(err, stt.ErrUnavailable) {
		t.Fatalf("%v, want ErrUnavailable", err)
	}
}

func TestMaxAudioDropsTheRest(t *testing.T) {
	p := newProvider(t, 200, `{"text":"ok"}`)
	e, _ := New(Options{BaseURL: p.URL, MaxAudio: time.Second}, p.Client(), nil)
	pcm := speechLike() // 2.3 s
	if _, err := run(t, e, stt.Options{Language: "en-US"}, pcm); err != nil {
		t.Fatal(err)
	}
	if got := checkWAV(t, p.last(t).wav, 8000); !slices.Equal(got, pcm[:8000]) {
		t.Fatalf("sent %d samples, want the first 8000", len(got))
	}
}

func TestLanguagesAndOptions(t *testing.T) {
	p := newProvider(t, 200, `{"text":"ok"}`)
	e, _ := New(Options{BaseURL: p.URL, Languages: []string{"en", "es-MX"}}, p.Client(), nil)
	if err := e.Supports("en-AU"); err != nil {
		t.Errorf("en-AU: %v", err)
	}
	if err := e.Supports("es-ES"); !errors.Is(err, stt.ErrLanguage) {
		t.Errorf("es-ES: %v", err)
	}
	if _, err := e.Start(context.Background(), stt.Options{Language: "xx yy"}); !errors.Is(err, stt.ErrLanguage) {
		t.Errorf("bad tag: %v", err)
	}
	if _, err := e.Start(context.Background(), stt.Options{Language: "en-US", SampleRate: 4000}); !errors.Is(err, stt.ErrInvalid) {
		t.Errorf("4 kHz: %v", err)
	}
	if _, err := e.Start(context.Background(), stt.Options{Language: "en-US", Phrases: []string{"!!", " "}}); !errors.Is(err, stt.ErrInvalid) {
		t.Errorf("wordless grammar: %v", err)
	}
	any, _ := New(Options{BaseURL: p.URL, NoPhrasePrompt: true}, p.Client(), nil)
	if _, err := run(t, any, stt.Options{Language: "yue-HK", Phrases: []string{"ok"}, SampleRate: 16000}, speechLike()); err != nil {
		t.Fatal(err)
	}
	r := p.last(t)
	if _, ok := r.fields["language"]; ok {
		t.Errorf("language %q sent for a three-letter code", r.fields["language"])
	}
	if _, ok := r.fields["prompt"]; ok {
		t.Errorf("prompt %q sent with NoPhrasePrompt", r.fields["prompt"])
	}
	checkWAV(t, r.wav, 16000)
	for _, bad := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := New(Options{BaseURL: bad}, nil, nil); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	if e.Name() != "http" {
		t.Error("Name")
	}
}

func TestRealSpeechIsSentIntact(t *testing.T) {
	bin := sttest.Espeak(t)
	pcm := sttest.Concat(sttest.Silence(300*time.Millisecond),
		sttest.Say(t, bin, sttest.Voice{Name: "en-us+m3", Speed: 150}, "please transfer me to the billing department"),
		sttest.Silence(500*time.Millisecond))
	pcm = append(pcm, make([]int16, (sttest.FrameSize-len(pcm)%sttest.FrameSize)%sttest.FrameSize)...) // whole frames, as written
	p := newProvider(t, 200, `{"text":"Please transfer me to the billing department."}`)
	e, _ := New(Options{BaseURL: p.URL}, p.Client(), nil)
	res, err := run(t, e, stt.Options{Language: "en-US", Phrases: []string{"sales", "billing department"}}, pcm)
	if err != nil || res.PhraseIndex != 1 {
		t.Fatalf("got %+v, %v", res, err)
	}
	if got := checkWAV(t, p.last(t).wav, 8000); !slices.Equal(got, pcm) {
		t.Fatalf("the WAV differs from the %d samples written", len(pcm))
	}
}
