package sphinx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/audio"
	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/sttest"
	"github.com/switchboard-oss/switchboard/internal/testpeer"
)

// TestAccuracyReport measures the engine on a synthesized corpus and
// prints a table. It runs only with STT_ACCURACY=1 (it takes minutes):
//
//	STT_ACCURACY=1 go test -tags pocketsphinx -run TestAccuracyReport -v ./internal/speech/stt/sphinx/
func TestAccuracyReport(t *testing.T) {
	if os.Getenv("STT_ACCURACY") != "1" {
		t.Skip("set STT_ACCURACY=1 to run the accuracy report")
	}
	e := realEngine(t)
	say := newSynth(t)
	outOfGrammar := []string{"banana", "good morning", "hello there", "cancel", "seven", "maybe", "hello",
		"representative", "agent", "help", "account", "payment", "repeat", "what", "i don't know", "technical",
		"thank you", "goodbye", "weather", "pizza", "computer", "okay", "please", "nothing", "sorry", "checking"}
	// Words one or two phones from a phrase: the hardest to refuse.
	nearPhrases := []string{"bill", "sail", "sport", "operate", "yesterday", "know", "building", "sell", "supper", "yet"}
	sentences := []string{
		"please transfer me to the billing department",
		"i would like to speak to an operator",
		"my account number is not working",
		"can you help me with my order",
		"yes that is correct",
		"i want to pay my bill",
	}
	type row struct {
		name            string
		n, right, wrong int
		rejected        int
		werSum          float64
		decode, audio   time.Duration
	}
	var rows []*row
	var rightScores, strangerScores []float64 // acoustic score per frame of accepted phrases
	t0 := time.Now()
	for _, snr := range []float64{0, 15} {
		cond := "clean"
		if snr > 0 {
			cond = fmt.Sprintf("%g dB SNR", snr)
		}
		noisy := func(pcm []int16, seed uint64) []int16 {
			if snr == 0 {
				return pcm
			}
			return sttest.AddNoise(pcm, snr, seed)
		}
		g := &row{name: "choices (6 phrases), " + cond}
		o := &row{name: "out-of-grammar words, " + cond}
		nr := &row{name: "near a phrase, " + cond}
		f := &row{name: "free speech, " + cond}
		rows = append(rows, g, o, nr, f)
		for vi, v := range say.voices {
			for want, w := range choices {
				pcm := noisy(padded(say.say(v, strings.ToLower(w))), uint64(vi*100+want))
				res, err := recognize(t, e, stt.Options{Language: "en-US", Phrases: choices}, pcm)
				g.n++
				g.decode += res.Stats.Decode
				g.audio += res.Stats.Audio
				switch {
				case err == nil && res.PhraseIndex == want:
					g.right++
					rightScores = append(rightScores, confidenceScore(res.Confidence))
				case errors.Is(err, stt.ErrNoMatch):
					g.rejected++
					t.Logf("rejected %s %q: heard %q (%.2f)", v, w, res.Text, res.Confidence)
				default:
					g.wrong++
					t.Logf("wrong %s %q: %q (%.2f) %v", v, w, res.Phrase, res.Confidence, err)
				}
			}
			for _, set := range []struct {
				r     *row
				words []string
				seed  int
			}{{o, outOfGrammar, 50}, {nr, nearPhrases, 20}} {
				for i, w := range set.words {
					pcm := noisy(padded(say.say(v, w)), uint64(vi*100+set.seed+i))
					res, err := recognize(t, e, stt.Options{Language: "en-US", Phrases: choices}, pcm)
					set.r.n++
					set.r.decode += res.Stats.Decode
					set.r.audio += res.Stats.Audio
					if errors.Is(err, stt.ErrNoMatch) {
						set.r.right++ // rejected, as it should be
					} else {
						set.r.wrong++
						if set.r == o {
							strangerScores = append(strangerScores, confidenceScore(res.Confidence))
						}
						t.Logf("accepted %s %q as %q (%.2f)", v, w, res.Phrase, res.Confidence)
					}
				}
			}
			for i, s := range sentences {
				pcm := noisy(padded(say.say(v, s)), uint64(vi*100+80+i))
				res, _ := recognize(t, e, stt.Options{Language: "en-US"}, pcm)
				f.n++
				f.werSum += sttest.WER(s, res.Text)
				f.decode += res.Stats.Decode
				f.audio += res.Stats.Audio
				if i == 0 {
					t.Logf("free %s: %q", v, res.Text)
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nPocketSphinx %s, model %s, %d CPUs, %s, streaming %v, %d decoys\n", "5prealpha", e.opts.ModelDir, runtime.NumCPU(), runtime.GOARCH, e.opts.Streaming, e.opts.Decoys)
	fmt.Fprintf(&b, "voices: %v\n", say.voices)
	load, lmLoad, rss := loadCosts(t)
	fmt.Fprintf(&b, "decoder load (acoustic model + dictionary): %v; language model on its first free-speech session: +%v; resident memory per loaded decoder: %d MiB\n\n",
		load.Round(time.Millisecond), lmLoad.Round(time.Millisecond), rss>>20)
	fmt.Fprintf(&b, "%-36s %5s %9s %7s %9s %6s %6s\n", "corpus", "n", "accuracy", "wrong", "no match", "WER", "RTF")
	for _, r := range rows {
		acc, wer := "", ""
		if strings.HasPrefix(r.name, "free") {
			acc, wer = "-", fmt.Sprintf("%.2f", r.werSum/float64(r.n))
		} else {
			acc, wer = fmt.Sprintf("%.1f%%", 100*float64(r.right)/float64(r.n)), "-"
		}
		rejected := r.rejected
		if strings.HasPrefix(r.name, "out") || strings.HasPrefix(r.name, "near") {
			rejected = r.right
		}
		fmt.Fprintf(&b, "%-36s %5d %9s %7d %9d %6s %6.3f\n", r.name, r.n, acc, r.wrong, rejected, wer, r.decode.Seconds()/r.audio.Seconds())
	}
	b.WriteString("\n(out-of-grammar and near: accuracy = share rejected with ErrNoMatch; RTF = decode time / audio time, one recognition at a time)\n")
	slices.Sort(rightScores)
	slices.Sort(strangerScores)
	fmt.Fprintf(&b, "acoustic score per frame of phrases accepted: right %s; out-of-grammar %s\n", quartiles(rightScores), quartiles(strangerScores))

	// CPU per concurrent recognition: N sessions at once on one sentence.
	pcm := padded(say.say(voice{synth: "espeak", name: "en-us+m3", speed: 150}, sentences[0]))
	audio := time.Duration(len(pcm)) * time.Second / sttest.Rate
	fmt.Fprintf(&b, "\n%-12s %-8s %10s %14s %12s\n", "concurrent", "mode", "wall", "CPU/recog", "CPU RTF")
	e = New(Options{MaxIdle: 8, Buffer: time.Minute, Streaming: e.opts.Streaming}, nil)
	defer e.Close()
	for _, mode := range []string{"grammar", "free"} {
		opts := stt.Options{Language: "en-US"}
		if mode == "grammar" {
			opts.Phrases = choices
		}
		for _, n := range []int{1, 2, 4, 8} {
			if _, err := e.Warm(n); err != nil {
				t.Fatal(err)
			}
			cpu0 := cpuTime()
			start := time.Now()
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					recognize(t, e, opts, pcm)
				}()
			}
			wg.Wait()
			wall := time.Since(start)
			cpu := (cpuTime() - cpu0) / time.Duration(n)
			fmt.Fprintf(&b, "%-12d %-8s %10v %14v %12.3f\n", n, mode, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), cpu.Seconds()/audio.Seconds())
		}
	}
	fmt.Fprintf(&b, "(audio %v per recognition, sent as fast as the decoder takes it; CPU RTF = CPU time per recognition / audio time)\n", audio)
	fmt.Fprintf(&b, "report took %v\n", time.Since(t0).Round(time.Second))
	t.Log(b.String())
}

// loadCosts measures a fresh engine: the time to load one decoder, the
// extra time of its first free-speech session (the language model), and
// the resident memory 4 loaded decoders (with the language model) add,
// per decoder.
func loadCosts(t *testing.T) (load, lm time.Duration, rss int64) {
	e := New(Options{MaxIdle: 4}, nil)
	defer e.Close()
	rss0 := residentBytes()
	if _, err := e.Warm(1); err != nil {
		t.Fatal(err)
	}
	load = e.LoadTime()
	start := time.Now()
	s, err := e.Start(context.Background(), stt.Options{Language: "en-US"})
	if err != nil {
		t.Fatal(err)
	}
	lm = time.Since(start)
	s.Close()
	var open []stt.Session
	for range 4 {
		s, err := e.Start(context.Background(), stt.Options{Language: "en-US"})
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, s)
	}
	rss = (residentBytes() - rss0) / 4
	for _, s := range open {
		s.Close()
	}
	return load, lm, rss
}

// residentBytes is the process's resident set size (Linux).
func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// voice is a synthesizer ("espeak" or "flite"), a voice and a speed
// (espeak-ng only; 0: its default).
type voice struct {
	synth, name string
	speed       int
}

func (v voice) String() string {
	if v.speed == 0 {
		return v.synth + ":" + v.name
	}
	return fmt.Sprintf("%s:%s@%d", v.synth, v.name, v.speed)
}

// synth speaks the corpus: 14 espeak-ng voices and speeds, and Flite's 5
// voices when flite is installed (apt install flite), a different
// synthesizer whose voices were not used to choose any setting.
type synth struct {
	t      *testing.T
	espeak string
	voices []voice
}

func newSynth(t *testing.T) *synth {
	s := &synth{t: t, espeak: sttest.Espeak(t)}
	for _, v := range []struct {
		name  string
		speed int
	}{
		{"en-us", 130}, {"en-us+m3", 150}, {"en-us+m3", 190}, {"en-gb", 140}, {"en-gb", 175},
		{"en-us+f3", 160}, {"en-gb-x-rp", 120}, {"en-us+m7", 175}, {"en-us+f4", 140},
		{"en-gb-scotland", 150}, {"en-029", 150}, {"en-us-nyc", 160}, {"en-us+m1", 170}, {"en-us+f2", 150},
	} {
		s.voices = append(s.voices, voice{"espeak", v.name, v.speed})
	}
	if _, err := exec.LookPath("flite"); err == nil {
		for _, n := range []string{"kal", "kal16", "awb", "rms", "slt"} {
			s.voices = append(s.voices, voice{synth: "flite", name: n})
		}
	} else {
		t.Log("flite is not installed: the corpus has espeak-ng voices only")
	}
	return s
}

// say returns text spoken by v as a phone line carries it (8 kHz µ-law).
func (s *synth) say(v voice, text string) []int16 {
	s.t.Helper()
	if v.synth == "espeak" {
		return sttest.Say(s.t, s.espeak, sttest.Voice{Name: v.name, Speed: v.speed}, text)
	}
	out := filepath.Join(s.t.TempDir(), "say.wav")
	if msg, err := exec.Command("flite", "-voice", v.name, "-t", text, "-o", out).CombinedOutput(); err != nil {
		s.t.Fatalf("flite: %v: %s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		s.t.Fatal(err)
	}
	w, err := testpeer.DecodeWAV(data)
	if err != nil {
		s.t.Fatal(err)
	}
	return sttest.PhoneLine(audio.Resample(nil, w.Samples, w.SampleRate, sttest.Rate))
}

// confidenceScore inverts the grammar confidence to the acoustic score
// per frame it came from.
func confidenceScore(c float64) float64 {
	c = min(max(c, 1e-9), 1-1e-9)
	return grammarCenter + grammarScale*math.Log(c/(1-c))
}

// quartiles formats the minimum, quartiles and maximum of sorted xs.
func quartiles(xs []float64) string {
	if len(xs) == 0 {
		return "none"
	}
	q := func(p float64) float64 { return xs[int(p*float64(len(xs)-1))] }
	return fmt.Sprintf("n=%d min %.0f q1 %.0f median %.0f q3 %.0f max %.0f", len(xs), q(0), q(0.25), q(0.5), q(0.75), q(1))
}
