package call

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/media"
	"github.com/switchboard-oss/switchboard/internal/speech/stt"
	"github.com/switchboard-oss/switchboard/internal/speech/stt/vad"
)

// Speech recognition runs beside the call, never on the media clock or the
// call's goroutine: a tap copies the target's audio frames into a bounded
// channel (dropping, and counting, when the listener falls behind), and a
// listener goroutine per recognize runs voice activity detection and feeds
// the utterance to the recognizer. The listener reports speech starting
// (barge-in, the end of the initial-silence wait) and the final result back
// to the call's goroutine, which decides the operation's outcome.

const (
	hearBuffer    = 50               // frames (1 s) between the clock and the listener
	preRoll       = 15               // frames (300 ms) before the detected onset sent to the recognizer
	maxUtterance  = 30 * time.Second // an utterance that does not end is cut here
	finishTimeout = 20 * time.Second // bounds the recognizer's final pass
)

// hearing is the speech side of one recognize operation.
type hearing struct {
	frames  chan [media.FrameSamples]int16
	stop    chan struct{}
	armed   atomic.Bool // frames count: the prompt is over, or may be interrupted
	dropped atomic.Int64
}

// speechNeeded reports whether a recognize input type listens for speech.
func speechNeeded(inputType string) bool {
	return inputType == "speech" || inputType == "choices" || inputType == "speechOrDtmf"
}

// phrases lists the choices' phrases for the recognizer's grammar, and
// which choice each belongs to.
func phrases(choices []acs.Choice) (list []string, owner []int) {
	for i, ch := range choices {
		for _, p := range ch.Phrases {
			list = append(list, p)
			owner = append(owner, i)
		}
	}
	return list, owner
}

// startHearing taps the target's audio and starts the listener.
func (c *Call) startHearing(op *mediaOp) {
	r := op.rec
	h := &hearing{frames: make(chan [media.FrameSamples]int16, hearBuffer), stop: make(chan struct{})}
	r.hearing = h
	if r.req.InterruptPrompt {
		h.armed.Store(true)
	}
	r.target.media.SetTap(func(frame []int16) {
		if !h.armed.Load() {
			return
		}
		var f [media.FrameSamples]int16
		copy(f[:], frame)
		select {
		case h.frames <- f:
		default:
			h.dropped.Add(1)
		}
	})
	list, _ := phrases(r.req.Choices)
	lang := r.req.SpeechLanguage
	if lang == "" {
		lang = defaultSpeechLanguage
	}
	opts := stt.Options{Language: lang, SampleRate: media.InternalRate}
	if r.req.InputType == "choices" {
		opts.Phrases = list
	}
	go h.listen(c, op, c.m.speech, opts, r.req.EndSilence)
}

// stopHearing removes the tap and ends the listener.
func (c *Call) stopHearing(r *recognition) {
	if r.hearing == nil {
		return
	}
	if !r.target.gone && !r.target.moved {
		r.target.media.SetTap(nil)
	}
	close(r.hearing.stop)
	if n := r.hearing.dropped.Load(); n > 0 {
		c.log.Warn("speech recognition fell behind the audio", "dropped_frames", n)
	}
	r.hearing = nil
}

// listen runs VAD over the frames and recognizes the first utterance.
func (h *hearing) listen(c *Call, op *mediaOp, eng stt.Engine, opts stt.Options, endSilence time.Duration) {
	det, err := vad.New(vad.Config{SampleRate: media.InternalRate, FrameSize: media.FrameSamples, EndSilence: endSilence})
	if err != nil {
		c.post(func() { c.speechDone(op, stt.Result{}, err) })
		return
	}
	var pre [][media.FrameSamples]int16
	var sess stt.Session
	var started time.Time
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	for {
		var f [media.FrameSamples]int16
		select {
		case f = <-h.frames:
		case <-h.stop:
			return
		}
		ev := det.Process(f[:])
		if sess == nil {
			if pre = append(pre, f); len(pre) > preRoll {
				pre = pre[1:]
			}
			if ev.Kind != vad.SpeechStart {
				continue
			}
			c.post(func() { c.speechStarted(op) })
			if sess, err = eng.Start(ctx, opts); err != nil {
				c.post(func() { c.speechDone(op, stt.Result{}, err) })
				return
			}
			started = time.Now()
			for i := range pre {
				sess.Write(pre[i][:])
			}
			continue
		}
		sess.Write(f[:])
		if ev.Kind == vad.SpeechEnd || time.Since(started) > maxUtterance {
			fctx, fcancel := context.WithTimeout(ctx, finishTimeout)
			res, err := sess.Finish(fctx)
			fcancel()
			c.post(func() { c.speechDone(op, res, err) })
			return
		}
	}
}

// speechStarted handles the target starting to speak: barge-in, and no
// more waiting for the initial silence to end.
func (c *Call) speechStarted(op *mediaOp) {
	r := op.rec
	if op.ended || r.hearing == nil {
		return
	}
	if r.req.InputType == "speechOrDtmf" && len(r.tones) > 0 {
		c.stopHearing(r) // the caller answered with tones first
		return
	}
	if !r.listening { // only armed during the prompt when it may be interrupted
		c.stopPlayers(op)
		if op.cancelLoad != nil {
			op.cancelLoad()
		}
		op.started = true
		r.listening = true
		c.log.Debug("speech interrupted the prompt")
	}
	r.speaking = true
	r.stopTimer()
}

// speechDone completes a recognize operation with what the recognizer heard.
func (c *Call) speechDone(op *mediaOp, res stt.Result, err error) {
	r := op.rec
	if op.ended || r.hearing == nil {
		return
	}
	c.stopHearing(r)
	c.removeOp(op)
	defer c.pump()
	if err != nil {
		c.log.Info("speech was not recognized", "input_type", r.req.InputType, "error", err, "heard", res.Text)
		switch {
		case errors.Is(err, stt.ErrNoMatch) && r.req.InputType == "choices":
			c.finishOp(op, acs.EventRecognizeFailed, acs.ResultSpeechNoOption, -1)
		case errors.Is(err, stt.ErrNoMatch):
			c.finishOp(op, acs.EventRecognizeFailed, acs.ResultSpeechNotRecognized, -1)
		default:
			c.finishOp(op, acs.EventRecognizeFailed, acs.ResultSpeechServiceError, -1)
		}
		return
	}
	if r.req.InputType == "choices" {
		_, owner := phrases(r.req.Choices)
		if res.PhraseIndex < 0 || res.PhraseIndex >= len(owner) {
			c.finishOp(op, acs.EventRecognizeFailed, acs.ResultSpeechNoOption, -1)
			return
		}
		r.recType = "choices"
		r.choice = &acs.ChoiceResult{Label: r.req.Choices[owner[res.PhraseIndex]].Label, RecognizedPhrase: res.Phrase, Confidence: res.Confidence}
		c.finishOp(op, acs.EventRecognizeCompleted, acs.ResultSpeechOption, -1)
		return
	}
	r.recType = "speech"
	r.speech = &acs.SpeechResult{Speech: res.Text, Confidence: res.Confidence}
	c.finishOp(op, acs.EventRecognizeCompleted, acs.ResultSpeechRecognized, -1)
}

// speechAvailable says why speech cannot be recognized in language, if it
// cannot.
func (m *Manager) speechAvailable(language string) error {
	if m.speech == nil {
		return acs.Errorf(400, "BadRequest", 8520, "speech recognition is not configured on this server (speech.sttEngine)")
	}
	if language == "" {
		language = defaultSpeechLanguage
	}
	if err := m.speech.Supports(language); err != nil {
		if errors.Is(err, stt.ErrLanguage) {
			return acs.Errorf(400, "BadRequest", 8523, "speechLanguage %s is not supported by the configured speech engines: %v", language, err)
		}
		return acs.Errorf(400, "BadRequest", 8520, "speech recognition is not available: %v", err)
	}
	return nil
}

const defaultSpeechLanguage = "en-US"
