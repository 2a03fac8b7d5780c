package tts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func newRealEspeak(t *testing.T, opts EspeakOptions) *Espeak {
	t.Helper()
	opts.Binary = espeakBinary(t)
	e, err := NewEspeak(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEspeakSpeaks(t *testing.T) {
	e := newRealEspeak(t, EspeakOptions{})
	tests := []struct {
		name  string
		r     Request
		chars int // spoken characters, for the duration check
	}{
		{"sentence", Request{Text: "Thank you for calling. Please hold while we connect you.", VoiceName: "en-US-NancyNeural"}, 56},
		{"french", Request{Text: "Bonjour, merci de votre appel.", VoiceName: "fr-FR-HenriNeural"}, 30},
		{"locale and kind", Request{Text: "Un momento, por favor.", Locale: "es-MX", VoiceKind: "female"}, 22},
		{"azure SSML", Request{SSML: azureSSML}, 62},
		{"minimal SSML", Request{SSML: `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US"><voice name="en-US-JennyNeural">Hello there, how are you today?</voice></speak>`}, 31},
		{"SSML with prosody and say-as", Request{SSML: `<speak><prosody rate="slow">Your code is</prosody> <say-as interpret-as="characters">ABC</say-as>.</speak>`}, 16},
		{"unknown voice and locale", Request{Text: "Testing one two three.", VoiceName: "xx-XX-NobodyNeural"}, 22},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wav, err := e.Synthesize(context.Background(), tt.r)
			if err != nil {
				t.Fatal(err)
			}
			w := decodeCanonical(t, wav)
			t.Logf("%.2f s, RMS %.0f", w.seconds(), w.rms())
			if w.rate != 22050 {
				t.Errorf("rate %d, want 22050", w.rate)
			}
			// espeak-ng speaks roughly 12-15 characters a second; allow a
			// wide band around that.
			if perChar := w.seconds() / float64(tt.chars); perChar < 0.02 || perChar > 0.25 {
				t.Errorf("%.2f s for %d characters (%.3f s/char)", w.seconds(), tt.chars, perChar)
			}
			if rms := w.rms(); rms < 100 {
				t.Errorf("RMS %.1f: silence", rms)
			}
		})
	}
}

func TestEspeakDurationGrowsWithText(t *testing.T) {
	e := newRealEspeak(t, EspeakOptions{})
	say := func(text string) testWAV {
		wav, err := e.Synthesize(context.Background(), Request{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return decodeCanonical(t, wav)
	}
	one := say("The quick brown fox jumps over the lazy dog.")
	four := say(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 4))
	if r := four.seconds() / one.seconds(); r < 3 || r > 5 {
		t.Errorf("four sentences last %.2f× one (%.2f s vs %.2f s)", r, four.seconds(), one.seconds())
	}
}

func TestEspeakVoicesDiffer(t *testing.T) {
	e := newRealEspeak(t, EspeakOptions{})
	text := "Hello, this is a test."
	female, err := e.Synthesize(context.Background(), Request{Text: text, VoiceName: "en-US-JennyNeural"})
	if err != nil {
		t.Fatal(err)
	}
	male, err := e.Synthesize(context.Background(), Request{Text: text, VoiceName: "en-US-GuyNeural"})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(female, male) {
		t.Error("female and male voices produced the same audio")
	}
}

// TestEspeakOptionInjection: text that looks like options is spoken.
func TestEspeakOptionInjection(t *testing.T) {
	e := newRealEspeak(t, EspeakOptions{})
	dir := t.TempDir()
	target := filepath.Join(dir, "pwned.wav")
	for _, text := range []string{
		"--help",
		"--version",
		"-w " + target + " hello",
		"--voices -- -v de",
		"-m <speak>x</speak>",
	} {
		t.Run(text, func(t *testing.T) {
			wav, err := e.Synthesize(context.Background(), Request{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			w := decodeCanonical(t, wav)
			if w.seconds() < 0.3 || w.rms() < 100 {
				t.Errorf("%.2f s, RMS %.1f: the text was not spoken", w.seconds(), w.rms())
			}
		})
	}
	if exists(target) {
		t.Error("text was parsed as -w: a file was written")
	}
	// Voice fields never reach the command line either.
	wav, err := e.Synthesize(context.Background(), Request{Text: "hi", VoiceName: "--stdout -w " + target, Locale: "-w" + target})
	if err != nil {
		t.Fatal(err)
	}
	decodeCanonical(t, wav)
	if exists(target) {
		t.Error("voice name was parsed as an option")
	}
}

func TestEspeakRejects(t *testing.T) {
	e := newRealEspeak(t, EspeakOptions{MaxChars: 100})
	tests := []struct {
		name string
		r    Request
		want error
	}{
		{"empty", Request{}, ErrEmpty},
		{"whitespace", Request{Text: " \n\t "}, ErrEmpty},
		{"control characters only", Request{Text: "\x00\x01\x1b"}, ErrEmpty},
		{"empty SSML", Request{SSML: "<speak> </speak>"}, ErrEmpty},
		{"both", Request{Text: "a", SSML: "<speak>b</speak>"}, ErrInvalidRequest},
		{"too long", Request{Text: strings.Repeat("a", 101)}, ErrTooLong},
		{"too long SSML text", Request{SSML: "<speak>" + strings.Repeat("a", 101) + "</speak>"}, ErrTooLong},
		{"too long SSML markup", Request{SSML: "<speak>" + strings.Repeat("<s/>", 1000) + "a</speak>"}, ErrTooLong},
		{"invalid SSML", Request{SSML: "<speak>unclosed"}, ErrInvalidSSML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.Synthesize(context.Background(), tt.r); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// 100 characters of multi-byte text are allowed.
	if _, err := e.Synthesize(context.Background(), Request{Text: strings.Repeat("é", 100)}); err != nil {
		t.Errorf("100 runes: %v", err)
	}
}

func TestEspeakCancelledBeforeStart(t *testing.T) {
	e := newRealEspeak(t, EspeakOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Synthesize(ctx, Request{Text: "hello"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestEspeakConcurrentRequests(t *testing.T) {
	e := newRealEspeak(t, EspeakOptions{MaxConcurrent: 2})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			wav, err := e.Synthesize(context.Background(), Request{Text: fmt.Sprintf("Caller number %d, please hold.", i)})
			if err == nil {
				_, err = normalizeWAV(wav)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// TestMappedVoicesInstalled checks the mapping tables against the
// installed espeak-ng's voice list.
func TestMappedVoicesInstalled(t *testing.T) {
	e := newRealEspeak(t, EspeakOptions{})
	if e.voices == nil {
		t.Fatal("espeak-ng --voices listed nothing")
	}
	all := slices.Collect(maps.Values(localeVoices))
	all = append(all, slices.Collect(maps.Keys(espeakLanguages))...)
	for _, v := range all {
		if !e.voices[v] {
			t.Errorf("mapped voice %q is not installed", v)
		}
	}
}

func TestNewEspeakUnavailable(t *testing.T) {
	_, err := NewEspeak(EspeakOptions{Binary: filepath.Join(t.TempDir(), "no-espeak-ng")}, nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("missing binary: err = %v, want ErrUnavailable", err)
	}
	bin, _ := fakeEspeak(t, "")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'espeak-ng: no data' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = NewEspeak(EspeakOptions{Binary: bin}, nil)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no data") {
		t.Fatalf("broken binary: err = %v, want ErrUnavailable with stderr", err)
	}
}
