package sphinx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/sttest"
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
	bin := sttest.Espeak(t)
	voices := []sttest.Voice{
		{Name: "en-us", Speed: 130}, {Name: "en-us+m3", Speed: 150}, {Name: "en-us+m3", Speed: 190},
		{Name: "en-gb", Speed: 140}, {Name: "en-gb"}, {Name: "en-us+f3", Speed: 160},
		{Name: "en-gb-x-rp", Speed: 120}, {Name: "en-us+m7"}, {Name: "en-us+f4", Speed: 140},
	}
	outOfGrammar := []string{"banana", "good morning", "hello there", "cancel", "seven", "maybe"}
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
		f := &row{name: "free speech, " + cond}
		rows = append(rows, g, o, f)
		for vi, v := range voices {
			for want, w := range choices {
				pcm := noisy(padded(sttest.Say(t, bin, v, strings.ToLower(w))), uint64(vi*100+want))
				res, err := recognize(t, e, stt.Options{Language: "en-US", Phrases: choices}, pcm)
				g.n++
				g.decode += res.Stats.Decode
				g.audio += res.Stats.Audio
				switch {
				case err == nil && res.PhraseIndex == want:
					g.right++
				case errors.Is(err, stt.ErrNoMatch):
					g.rejected++
					t.Logf("rejected %s %q: heard %q (%.2f)", v, w, res.Text, res.Confidence)
				default:
					g.wrong++
					t.Logf("wrong %s %q: %q (%.2f) %v", v, w, res.Phrase, res.Confidence, err)
				}
			}
			for i, w := range outOfGrammar {
				pcm := noisy(padded(sttest.Say(t, bin, v, w)), uint64(vi*100+50+i))
				res, err := recognize(t, e, stt.Options{Language: "en-US", Phrases: choices}, pcm)
				o.n++
				o.decode += res.Stats.Decode
				o.audio += res.Stats.Audio
				if errors.Is(err, stt.ErrNoMatch) {
					o.right++ // rejected, as it should be
				} else {
					o.wrong++
				}
			}
			for i, s := range sentences {
				pcm := noisy(padded(sttest.Say(t, bin, v, s)), uint64(vi*100+80+i))
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
	fmt.Fprintf(&b, "\nPocketSphinx %s, model %s, %d CPUs, %s, streaming %v\n", "5prealpha", e.opts.ModelDir, runtime.NumCPU(), runtime.GOARCH, e.opts.Streaming)
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
		if strings.HasPrefix(r.name, "out") {
			rejected = r.right
		}
		fmt.Fprintf(&b, "%-36s %5d %9s %7d %9d %6s %6.3f\n", r.name, r.n, acc, r.wrong, rejected, wer, r.decode.Seconds()/r.audio.Seconds())
	}
	b.WriteString("\n(out-of-grammar: accuracy = share rejected with ErrNoMatch; RTF = decode time / audio time, one recognition at a time)\n")

	// CPU per concurrent recognition: N sessions at once on one sentence.
	pcm := padded(sttest.Say(t, bin, sttest.Voice{Name: "en-us+m3", Speed: 150}, sentences[0]))
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
