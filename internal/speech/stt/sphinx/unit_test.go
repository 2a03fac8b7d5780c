package sphinx

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
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
	ugs      []unigram // the language model's words
	ugErr    error
}

// pronunciation spells a known word's letters as its phones.
func (f *fakePS) pronunciation(w string) string {
	if !f.dict[w] {
		return ""
	}
	return strings.Join(strings.Split(strings.ToUpper(w), ""), " ")
}
func (f *fakePS) unigrams(string) ([]unigram, error) { return f.ugs, f.ugErr }
func (f *fakePS) useGrammar(j string) error          { f.grammar = j; return nil }
func (f *fakePS) useLM(string) error                 { f.lm = true; return nil }
func (f *fakePS) start() error                       { f.starts++; return nil }
func (f *fakePS) end() error                         { f.ends++; return nil }
func (f *fakePS) hyp() string                        { return f.hypText }
func (f *fakePS) segments() []segment                { return f.segs }
func (f *fakePS) free()                              { f.freed = true }
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
	// 1.9 s at 8 kHz framed to the 1 s of tone with 200 ms before and
	// 300 ms after, upsampled to 16 kHz (plus the filter's flush), in one
	// batch at Finish.
	if want := 2*len(frameSpeech(speech(), 8000, framePre, framePost)) + 2*halfTaps; f.samples != want || !f.fullUtt {
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
		{"low score", words3(-80), speech(), "confidence"},
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
	pron := func(w string) string {
		if w == "zorblax" {
			return ""
		}
		return strings.Join(strings.Split(strings.ToUpper(w), ""), " ")
	}
	g, err := buildGrammar([]string{"Customer Service", "customer  service!", "Zorblax now", "", "Don't know"}, pron, lexicon{}, 10, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g.jsgf, "public <choice> = customer service | don't know ;") {
		t.Errorf("jsgf without decoys %q", g.jsgf)
	}
	if g.phrase("customer service") != 0 || g.phrase("don't know") != 4 || g.phrase("zorblax now") != -1 {
		t.Errorf("phrase mapping %v", g.byWords)
	}

	// With decoys: the phrases at weight 1, then the most frequent words
	// that do not sound like a phrase word ("sales" is one phone from
	// "sale"; "service" is a phrase word itself), at decoyWeight.
	ugs := parseUnigrams("-1.5 the\n-2.0 sale\n-2.5 service\n-3.0 <s>\n-3.1 don't\n-3.2 people\n-4.0 weather\n-5.0 rare\n")
	lex := newLexicon(ugs, pron, 10)
	if want := []string{"the", "sale", "service", "people", "weather", "rare"}; !slices.Equal(lex.words, want) {
		t.Fatalf("lexicon %v, want %v (most frequent first, plain words only)", lex.words, want)
	}
	g, err = buildGrammar([]string{"Sales", "customer service"}, pron, lex, 3, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	want := "public <choice> = /1/ sales | /1/ customer service | /" + decoyWeight + "/ the | /" + decoyWeight + "/ people | /" + decoyWeight + "/ weather ;"
	if !strings.Contains(g.jsgf, want) {
		t.Errorf("jsgf %q\nwant %q", g.jsgf, want)
	}
	if g.phrase("people") != -1 || g.phrase("sales") != 0 {
		t.Errorf("a decoy heard must map to no phrase: %v", g.byWords)
	}
}

func TestFrameSpeech(t *testing.T) {
	tone := speech()[2400:10400] // 1 s of tone
	ms := func(n int) int { return n * 8 }
	for _, c := range []struct {
		name      string
		lead, end int // ms of silence before and after the tone
		want      int // ms framed
	}{
		{"long lead trimmed", 2000, 2000, 200 + 1000 + 300},
		{"short lead padded", 50, 2000, 200 + 1000 + 300},
		{"short tail kept", 300, 100, 200 + 1000 + 100},
	} {
		in := sttest.Concat(sttest.Silence(time.Duration(c.lead)*time.Millisecond), tone, sttest.Silence(time.Duration(c.end)*time.Millisecond))
		out := frameSpeech(in, 8000, framePre, framePost)
		// The detector works in 20 ms frames: allow one frame either way.
		if d := len(out) - ms(c.want); d < -160 || d > 160 {
			t.Errorf("%s: framed %d ms, want %d", c.name, len(out)/8, c.want)
		}
		if first := sttest.SpeechStart(out, 1000); first < ms(200)-160 || first > ms(200)+160 {
			t.Errorf("%s: the tone starts at %d ms of the framed audio, want 200", c.name, first/8)
		}
	}
	quiet := sttest.Silence(time.Second)
	if out := frameSpeech(quiet, 8000, framePre, framePost); len(out) != len(quiet) {
		t.Errorf("no speech: %d samples, want the input's %d", len(out), len(quiet))
	}
}

func TestEngineGrammarHasDecoysUnlessOff(t *testing.T) {
	dict := map[string]bool{"billing": true, "hello": true, "billings": true, "weather": true}
	ugs := []unigram{{"hello", -2}, {"billings", -2.5}, {"weather", -3}}
	for _, c := range []struct {
		decoys int
		want   string
	}{
		{0, "/1/ billing | /" + decoyWeight + "/ hello | /" + decoyWeight + "/ weather ;"},
		{1, "/1/ billing | /" + decoyWeight + "/ hello ;"},
		{-1, "public <choice> = billing ;"},
	} {
		e, made := fakeEngine(t, Options{Decoys: c.decoys}, func() *fakePS { return &fakePS{dict: dict, ugs: ugs} })
		s, err := e.Start(context.Background(), stt.Options{Language: "en-US", Phrases: []string{"Billing"}})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if g := (*made)[0].grammar; !strings.Contains(g, c.want) {
			t.Errorf("Decoys %d: grammar %q, want %q", c.decoys, g, c.want)
		}
	}
	// An unreadable language model leaves the grammar without decoys
	// (and says so) rather than failing the recognition.
	var log bytes.Buffer
	old := openFunc
	defer func() { openFunc = old }()
	openFunc = func(Options, *slog.Logger) (psDecoder, error) {
		return &fakePS{dict: dict, ugErr: errors.New("no such file")}, nil
	}
	e := New(Options{}, slog.New(slog.NewTextHandler(&log, nil)))
	e.avail = nil
	s, err := e.Start(context.Background(), stt.Options{Language: "en-US", Phrases: []string{"Billing"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !strings.Contains(log.String(), "no decoys") || !strings.Contains(log.String(), "no such file") {
		t.Errorf("log %q", log.String())
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
