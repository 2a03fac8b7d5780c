package sphinx

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/sttest"
)

// fakePS stands in for the library: it "hears" hyp with the given
// segments and records what it was asked.
type fakePS struct {
	dict     map[string]bool
	grammar  string
	lm       bool
	samples  int
	fullUtt  bool
	starts   int
	ends     int
	freed    bool
	hypText  string
	segs     []segment
	failOpen error
}

func (f *fakePS) known(w string) bool       { return f.dict[w] }
func (f *fakePS) useGrammar(j string) error { f.grammar = j; return nil }
func (f *fakePS) useLM(string) error        { f.lm = true; return nil }
func (f *fakePS) start() error              { f.starts++; return nil }
func (f *fakePS) end() error                { f.ends++; return nil }
func (f *fakePS) hyp() string               { return f.hypText }
func (f *fakePS) segments() []segment       { return f.segs }
func (f *fakePS) free()                     { f.freed = true }
func (f *fakePS) process(s []int16, full bool) error {
	f.samples += len(s)
	f.fullUtt = full
	return nil
}

// fakeEngine returns an engine whose decoders are fakes built by mk.
func fakeEngine(t *testing.T, opts Options, mk func() *fakePS) (*Engine, *[]*fakePS) {
	t.Helper()
	var made []*fakePS
	old := openFunc
	openFunc = func(Options, *slog.Logger) (psDecoder, error) {
		f := mk()
		if f.failOpen != nil {
			return nil, f.failOpen
		}
		made = append(made, f)
		return f, nil
	}
	t.Cleanup(func() { openFunc = old })
	e := New(opts, nil)
	e.avail = nil
	return e, &made
}

func words3(ascr int32) []segment {
	return []segment{
		{word: "<sil>", start: 0, end: 29, ascr: -5000},
		{word: "billing", start: 30, end: 79, ascr: ascr * 50},
		{word: "(NULL)", start: 80, end: 80},
		{word: "<sil>", start: 81, end: 99, ascr: -100},
	}
}

func speech() []int16 {
	tone := make([]int16, 8000)
	for i := range tone {
		tone[i] = int16(6000 * math.Sin(2*math.Pi*200*float64(i)/8000))
	}
	return sttest.Concat(sttest.Silence(300*time.Millisecond), tone, sttest.Silence(600*time.Millisecond))
}

func runFake(t *testing.T, e *Engine, opts stt.Options, pcm []int16) (stt.Result, error) {
	t.Helper()
	s, err := e.Start(context.Background(), opts)
	if err != nil {
		return stt.Result{}, err
	}
	defer s.Close()
	for _, f := range sttest.Frames(pcm) {
		if err := s.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	return s.Finish(context.Background())
}

func TestEngineWithFakeDecoder(t *testing.T) {
	e, made := fakeEngine(t, Options{}, func() *fakePS {
		return &fakePS{dict: map[string]bool{"billing": true, "sales": true}, segs: words3(-20)}
	})
	res, err := runFake(t, e, stt.Options{Language: "en-US", Phrases: []string{"Sales", "Billing!"}}, speech())
	if err != nil {
		t.Fatal(err)
	}
	if res.PhraseIndex != 1 || res.Phrase != "Billing!" || res.Text != "billing" || res.Confidence < 0.99 {
		t.Fatalf("result %+v", res)
	}
	f := (*made)[0]
	if f.grammar != "#JSGF V1.0;\ngrammar choices;\npublic <choice> = sales | billing ;\n" {
		t.Errorf("grammar %q", f.grammar)
	}
	// 1.9 s at 8 kHz upsampled to 16 kHz (plus the filter's flush), in one
	// batch at Finish.
	if want := 2*len(speech()) + 2*halfTaps; f.samples != want || !f.fullUtt {
		t.Errorf("decoder got %d samples (full %v), want %d in one batch", f.samples, f.fullUtt, want)
	}
	// The decoder is reused, not reloaded.
	if _, err := runFake(t, e, stt.Options{Language: "en", Phrases: []string{"billing"}}, speech()); err != nil {
		t.Fatal(err)
	}
	if len(*made) != 1 || f.starts != 2 || f.ends != 2 {
		t.Errorf("%d decoders made, %d starts, %d ends", len(*made), f.starts, f.ends)
	}
	e.Close()
	if !f.freed {
		t.Error("idle decoder not freed by Close")
	}
}

func TestEngineNoMatchCases(t *testing.T) {
	cases := []struct {
		name string
		segs []segment
		pcm  []int16
		want string
	}{
		{"silence", words3(-20), sttest.Silence(2 * time.Second), "no speech heard"},
		{"nothing", []segment{{word: "<sil>", end: 99}}, speech(), "nothing recognized"},
		{"low score", words3(-60), speech(), "confidence"},
		{"not a phrase", []segment{{word: "sales", start: 0, end: 50, ascr: -500}}, speech(), "not a phrase"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _ := fakeEngine(t, Options{}, func() *fakePS {
				return &fakePS{dict: map[string]bool{"billing": true}, segs: c.segs}
			})
			res, err := runFake(t, e, stt.Options{Language: "en-US", Phrases: []string{"billing"}}, c.pcm)
			if !errors.Is(err, stt.ErrNoMatch) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want ErrNoMatch (%s)", err, c.want)
			}
			if res.PhraseIndex != -1 || res.Phrase != "" {
				t.Errorf("no-match result names phrase %d %q", res.PhraseIndex, res.Phrase)
			}
		})
	}
}

func TestEngineFreeSpeechAndStreaming(t *testing.T) {
	segs := []segment{{word: "hello", end: 40, posterior: 0.9}, {word: "<sil>", end: 50}, {word: "world(2)", start: 51, end: 90, posterior: 0.7}}
	e, made := fakeEngine(t, Options{Streaming: true}, func() *fakePS {
		return &fakePS{segs: segs, hypText: "hello"}
	})
	res, err := runFake(t, e, stt.Options{Language: "en-US"}, speech())
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "hello world" || math.Abs(res.Confidence-0.8) > 1e-9 || res.PhraseIndex != -1 {
		t.Fatalf("result %+v", res)
	}
	if f := (*made)[0]; !f.lm || f.fullUtt {
		t.Errorf("LM %v, last process full %v: want the LM, streamed", f.lm, f.fullUtt)
	}
}

func TestEngineGrammarErrorsAndLoadFailures(t *testing.T) {
	var log bytes.Buffer
	old := openFunc
	defer func() { openFunc = old }()
	openFunc = func(Options, *slog.Logger) (psDecoder, error) {
		return &fakePS{dict: map[string]bool{"yes": true}}, nil
	}
	e := New(Options{}, slog.New(slog.NewTextHandler(&log, nil)))
	e.avail = nil
	_, err := e.Start(context.Background(), stt.Options{Language: "en-US", Phrases: []string{"Zorblax", "!!"}})
	if !errors.Is(err, stt.ErrInvalid) || !strings.Contains(err.Error(), "zorblax") {
		t.Fatalf("unknown words: %v", err)
	}
	s, err := e.Start(context.Background(), stt.Options{Language: "en-US", Phrases: []string{"Zorblax", "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !strings.Contains(log.String(), "zorblax") {
		t.Errorf("no warning about the dropped phrase: %s", log.String())
	}
	openFunc = func(Options, *slog.Logger) (psDecoder, error) { return nil, errors.New("bad model") }
	e2 := New(Options{}, nil)
	e2.avail = nil
	if _, err := e2.Start(context.Background(), stt.Options{Language: "en-US"}); !errors.Is(err, stt.ErrUnavailable) || !strings.Contains(err.Error(), "bad model") {
		t.Fatalf("load failure: %v", err)
	}
	if err := e.Supports("fr-FR"); !errors.Is(err, stt.ErrLanguage) {
		t.Errorf("fr-FR: %v", err)
	}
	if _, err := e.Start(context.Background(), stt.Options{Language: "en-US", SampleRate: 44100}); !errors.Is(err, stt.ErrInvalid) {
		t.Errorf("44.1 kHz: %v", err)
	}
}

func TestUnavailableWithoutTheBinding(t *testing.T) {
	e := New(Options{ModelDir: t.TempDir()}, nil)
	err := e.Available()
	if !errors.Is(err, stt.ErrUnavailable) || !strings.Contains(err.Error(), "apt install libpocketsphinx-dev pocketsphinx-en-us") {
		t.Fatalf("Available: %v", err)
	}
	if !Compiled && !strings.Contains(err.Error(), "-tags pocketsphinx") {
		t.Errorf("message does not say how to build: %v", err)
	}
	if err := e.Supports("en-US"); !errors.Is(err, stt.ErrUnavailable) {
		t.Errorf("Supports: %v", err)
	}
	if _, err := e.Start(context.Background(), stt.Options{Language: "en-US"}); !errors.Is(err, stt.ErrUnavailable) {
		t.Errorf("Start: %v", err)
	}
	if _, err := e.Warm(1); !errors.Is(err, stt.ErrUnavailable) {
		t.Errorf("Warm: %v", err)
	}
	if e.Name() != "pocketsphinx" {
		t.Error("Name")
	}
}

func TestBuildGrammar(t *testing.T) {
	known := func(w string) bool { return w != "zorblax" }
	g, err := buildGrammar([]string{"Customer Service", "customer  service!", "Zorblax now", "", "Don't know"}, known, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g.jsgf, "public <choice> = customer service | don't know ;") {
		t.Errorf("jsgf %q", g.jsgf)
	}
	if g.phrase("customer service") != 0 || g.phrase("don't know") != 4 || g.phrase("zorblax now") != -1 {
		t.Errorf("phrase mapping %v", g.byWords)
	}
}

func TestConfidence(t *testing.T) {
	if c := grammarConfidence(words3(-20)); c < 0.99 {
		t.Errorf("good fit: %.3f", c)
	}
	if c := grammarConfidence(words3(int32(grammarCenter))); math.Abs(c-0.5) > 0.02 {
		t.Errorf("at the centre: %.3f", c)
	}
	if c := grammarConfidence(words3(-90)); c > 0.01 {
		t.Errorf("noise: %.3f", c)
	}
	if grammarConfidence(nil) != 0 || freeConfidence(nil) != 0 {
		t.Error("no words must be 0")
	}
	if !math.IsInf(acousticPerFrame(nil), -1) || acousticPerFrame(words3(-20)) != -20 {
		t.Error("acousticPerFrame")
	}
}

func TestUpsamplerResponse(t *testing.T) {
	// A tone passes at the same level and frequency; its image at
	// 8000-f Hz is removed; the output has twice the samples.
	for _, f := range []float64{300, 1000, 3000} {
		in := make([]int16, 8000)
		for i := range in {
			in[i] = int16(10000 * math.Sin(2*math.Pi*f*float64(i)/8000))
		}
		c := newConditioner(true, 0)
		out := append(append([]int16(nil), c.convert(in)...), c.flush()...)
		if len(out) != 2*len(in)+2*halfTaps {
			t.Fatalf("%d samples out for %d in", len(out), len(in))
		}
		body := out[2000:14000]
		sig, img := goertzel(body, f, 16000), goertzel(body, 16000/2-f, 16000)
		if math.Abs(sig-10000/math.Sqrt2) > 300 {
			t.Errorf("%g Hz: level %.0f RMS, want %.0f", f, sig, 10000/math.Sqrt2)
		}
		if img > sig/300 {
			t.Errorf("%g Hz: image at %g Hz %.1f RMS (signal %.0f)", f, 8000-f, img, sig)
		}
	}
	// Dither adds the requested RMS over the whole band.
	c := newConditioner(true, 90)
	out := c.convert(make([]int16, 8000))
	var sum float64
	for _, s := range out {
		sum += float64(s) * float64(s)
	}
	if rms := math.Sqrt(sum / float64(len(out))); rms < 80 || rms > 100 {
		t.Errorf("dither RMS %.1f, want 90", rms)
	}
	if hi := goertzel(out, 6000, 16000); hi < 0.5 {
		t.Errorf("no dither above 4 kHz (%.2f)", hi)
	}
	plain := newConditioner(false, 0).convert([]int16{1, 2, 3})
	if len(plain) != 3 || plain[2] != 3 {
		t.Errorf("no upsampling, no dither: %v", plain)
	}
}

// goertzel returns the RMS of the component of x at freq.
func goertzel(x []int16, freq float64, rate int) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return math.Sqrt(2*power) / float64(len(x))
}
