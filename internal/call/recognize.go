package call

import (
	"context"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
)

// RecognizeRequest is an app asking to collect a participant's input.
// DTMF and DTMF answers to choices are recognized here; speech comes with
// the speech-recognition work.
type RecognizeRequest struct {
	InputType        string // dtmf or choices
	Prompts          []acs.PlaySource
	Interrupt        bool // interruptCallMediaOperation
	InterruptPrompt  bool // the first tone stops the prompt
	Target           acs.Identifier
	InitialSilence   time.Duration
	InterTone        time.Duration
	MaxTones         int
	StopTones        []byte
	Choices          []acs.Choice
	SpeechLanguage   string        // BCP-47; default en-US
	EndSilence       time.Duration // endSilenceTimeoutInMs: silence that ends an utterance
	OperationContext string
	CallbackURI      string
}

// recognition is the listening half of a recognize operation.
type recognition struct {
	req       RecognizeRequest
	target    *participant
	listening bool // the prompt is over (or was interrupted)
	tones     []byte
	timer     *time.Timer
	timerGen  int // invalidates a timer that fired after it was replaced
	recType   string
	choice    *acs.ChoiceResult
	speech    *acs.SpeechResult
	voice     bool     // the input type takes speech and a recognizer is available
	hearing   *hearing // listening for speech
	speaking  bool     // the target started an utterance
}

func (r *recognition) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.timerGen++
}

// result renders RecognizeCompleted's data.
func (r *recognition) result(base acs.CallEventData) any {
	d := acs.RecognizeCompletedData{CallEventData: base, RecognitionType: r.recType}
	switch {
	case r.choice != nil:
		d.ChoiceResult = r.choice
	case r.speech != nil:
		d.SpeechResult = r.speech
	default:
		tones := make([]string, 0, len(r.tones))
		for _, t := range r.tones {
			name, _ := acs.ToneName(t)
			tones = append(tones, name)
		}
		d.DTMFResult = &acs.DTMFResult{Tones: tones}
	}
	return d
}

// Recognize queues a recognize operation: its prompt plays, then the
// target's input is collected until a stop tone, the maximum, a timeout or
// a matching choice.
func (m *Manager) Recognize(ctx context.Context, connID string, req RecognizeRequest) error {
	voice := false // the input is heard by the speech recognizer
	switch req.InputType {
	case "dtmf":
		if req.MaxTones < 1 && len(req.StopTones) == 0 {
			req.MaxTones = 1
		}
	case "choices":
		if len(req.Choices) == 0 {
			return acs.BadRequest("choices are required for recognizeInputType choices")
		}
		list, _ := phrases(req.Choices)
		if err := m.speechAvailable(req.SpeechLanguage); err != nil {
			for _, ch := range req.Choices {
				if ch.Tone == "" {
					return err // a choice only speech can select
				}
			}
		} else {
			voice = len(list) > 0
		}
	case "speech", "speechOrDtmf":
		if err := m.speechAvailable(req.SpeechLanguage); err != nil {
			return err
		}
		voice = true
		if req.InputType == "speechOrDtmf" && req.MaxTones < 1 && len(req.StopTones) == 0 {
			req.MaxTones = 1
		}
	default:
		return acs.BadRequest("recognizeInputType %q is not dtmf, choices, speech or speechOrDtmf", req.InputType)
	}
	if err := validateSources("playPrompts", req.Prompts); err != nil {
		return err
	}
	return m.onConnected(ctx, connID, func(c *Call, cn *connection) error {
		p, err := c.mediaParticipant(req.Target)
		if err != nil {
			return err
		}
		for _, op := range c.ops {
			if op.rec != nil {
				return acs.Errorf(400, "BadRequest", 8500, "a recognize operation is already running or queued")
			}
		}
		op := &mediaOp{conn: cn, opContext: req.OperationContext, callbackURI: req.CallbackURI, sources: req.Prompts,
			targets: []*participant{p}, rec: &recognition{req: req, target: p, voice: voice}}
		c.enqueue(op, req.Interrupt)
		return nil
	})
}

// listen starts collecting input once the prompt is over.
func (c *Call) listen(op *mediaOp) {
	r := op.rec
	if r.listening {
		return
	}
	r.listening = true
	if r.hearing != nil {
		r.hearing.armed.Store(true) // the prompt is over: the caller may speak
	}
	if len(r.tones) > 0 {
		c.restartTimer(op, r.req.InterTone) // a tone interrupted the prompt
		return
	}
	c.restartTimer(op, r.req.InitialSilence)
}

func (c *Call) restartTimer(op *mediaOp, d time.Duration) {
	r := op.rec
	r.stopTimer()
	if d <= 0 {
		return
	}
	gen := r.timerGen
	r.timer = time.AfterFunc(d, func() { c.post(func() { c.recognizeTimeout(op, gen) }) })
}

// recognizeTimeout ends a recognition whose caller went quiet.
func (c *Call) recognizeTimeout(op *mediaOp, gen int) {
	r := op.rec
	if op.ended || gen != r.timerGen {
		return
	}
	c.removeOp(op)
	if len(r.tones) == 0 {
		c.finishOp(op, acs.EventRecognizeFailed, acs.ResultInitialSilence, -1)
	} else if r.req.InputType == "choices" {
		c.finishOp(op, acs.EventRecognizeFailed, acs.ResultIncorrectTone, -1)
	} else {
		r.recType = "dtmf"
		c.finishOp(op, acs.EventRecognizeCompleted, acs.ResultInterToneTimeout, -1)
	}
	c.pump()
}

// onDTMF routes a participant's digit to the running recognize operation.
func (c *Call) onDTMF(p *participant, digit byte) {
	if _, ok := acs.ToneName(digit); !ok {
		c.continuousToneFailed(p) // a signal that is not a DTMF tone
		return
	}
	c.continuousTone(p, digit)
	if len(c.ops) == 0 || c.ops[0].rec == nil || c.ops[0].ended || c.ops[0].rec.target != p {
		return
	}
	op := c.ops[0]
	r := op.rec
	if r.req.InputType == "speech" || (r.speaking && r.req.InputType != "choices") {
		return // speechOrDtmf: the caller answered by voice first
	}
	if r.req.InputType == "speechOrDtmf" {
		c.stopHearing(r) // answered with tones: no longer listening for speech
	}
	if !r.listening {
		if !r.req.InterruptPrompt {
			return // tones during a prompt that may not be interrupted are ignored
		}
		c.stopPlayers(op)
		if op.cancelLoad != nil {
			op.cancelLoad()
		}
		op.started = true
		r.listening = true
	}
	r.tones = append(r.tones, digit)
	if r.req.InputType == "choices" {
		name, _ := acs.ToneName(digit)
		for _, ch := range r.req.Choices {
			if ch.Tone != "" && lowerEq(ch.Tone, name) {
				r.recType = "choices"
				r.choice = &acs.ChoiceResult{Label: ch.Label, RecognizedPhrase: name}
				c.removeOp(op)
				c.finishOp(op, acs.EventRecognizeCompleted, acs.ResultDTMFOption, -1)
				c.pump()
				return
			}
		}
		c.removeOp(op)
		c.finishOp(op, acs.EventRecognizeFailed, acs.ResultIncorrectTone, -1)
		c.pump()
		return
	}
	r.recType = "dtmf"
	for _, st := range r.req.StopTones {
		if st == digit {
			c.removeOp(op)
			c.finishOp(op, acs.EventRecognizeCompleted, acs.ResultStopTone, -1)
			c.pump()
			return
		}
	}
	if r.req.MaxTones > 0 && len(r.tones) >= r.req.MaxTones {
		c.removeOp(op)
		c.finishOp(op, acs.EventRecognizeCompleted, acs.ResultMaxTones, -1)
		c.pump()
		return
	}
	c.restartTimer(op, r.req.InterTone)
}

func lowerEq(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 32
		}
		if y >= 'A' && y <= 'Z' {
			y += 32
		}
		if x != y {
			return false
		}
	}
	return true
}
