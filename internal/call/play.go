package call

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/audio"
	"github.com/switchboard-oss/switchboard/internal/media"
)

// PromptLoader turns a play source into audio: files are fetched and
// decoded, text and SSML synthesized. A failure should be a *PlayError that
// says which result to report; anything else is reported as an internal
// error.
type PromptLoader interface {
	Load(ctx context.Context, src acs.PlaySource) (*audio.Prompt, error)
}

// PlayError is a play source that could not be turned into audio.
type PlayError struct {
	Result acs.ResultInformation
	Err    error
}

func (e *PlayError) Error() string { return e.Result.Message + ": " + e.Err.Error() }
func (e *PlayError) Unwrap() error { return e.Err }

// loadTimeout bounds fetching and synthesizing one operation's sources.
const loadTimeout = 60 * time.Second

// mediaOp is one queued media operation of a call (a play, for now). The
// call's goroutine owns it; its player's done signal comes back as a post.
type mediaOp struct {
	conn        *connection  // the app that asked for it; its events go there
	rec         *recognition // nil for a play
	opContext   string
	callbackURI string // operationCallbackUri, or the connection's
	sources     []acs.PlaySource
	loop        bool
	targets     []*participant // nil: everyone
	cancelLoad  context.CancelFunc
	players     []*opSource
	remaining   int // players not done yet
	started     bool
	ended       bool
}

// opSource plays a prompt list into the mix and reports when it is done.
type opSource struct {
	player *audio.Player
	fired  atomic.Bool
	onDone func()
}

func (s *opSource) ReadFrame(dst []int16) (int, bool) {
	n, done := s.player.ReadFrame(dst)
	if done && s.fired.CompareAndSwap(false, true) {
		go s.onDone() // never call back into the call from the clock
	}
	return n, done
}

// PlayRequest is an app asking to play audio.
type PlayRequest struct {
	Sources          []acs.PlaySource
	PlayTo           []acs.Identifier // empty: everyone
	Loop             bool
	Interrupt        bool // interruptCallMediaOperation: play now, canceling the current operation
	OperationContext string
	CallbackURI      string // operationCallbackUri
}

// Play queues a play operation. PlayStarted and then one of PlayCompleted,
// PlayFailed or PlayCanceled follow.
func (m *Manager) Play(ctx context.Context, connID string, req PlayRequest) error {
	if len(req.Sources) == 0 {
		return acs.BadRequest("playSources is required and must not be empty")
	}
	if err := validateSources("playSources", req.Sources); err != nil {
		return err
	}
	return m.onConnected(ctx, connID, func(c *Call, cn *connection) error {
		op := &mediaOp{conn: cn, opContext: req.OperationContext, callbackURI: req.CallbackURI, sources: req.Sources, loop: req.Loop}
		for _, id := range req.PlayTo {
			p, err := c.mediaParticipant(id)
			if err != nil {
				return err
			}
			op.targets = append(op.targets, p)
		}
		if len(op.targets) == len(c.live()) {
			op.targets = nil // everyone: play into the call's own voice
		}
		c.enqueue(op, req.Interrupt)
		return nil
	})
}

// enqueue queues op; with interrupt it cancels the running operation and
// goes first.
func (c *Call) enqueue(op *mediaOp, interrupt bool) {
	if interrupt && len(c.ops) > 0 {
		cur := c.ops[0]
		c.ops = c.ops[1:]
		c.finishOp(cur, cur.canceledEvent(), acs.ResultCanceled, -1)
		c.ops = append([]*mediaOp{op}, c.ops...)
	} else {
		c.ops = append(c.ops, op)
	}
	c.pump()
}

func (op *mediaOp) canceledEvent() string {
	if op.rec != nil {
		return acs.EventRecognizeCanceled
	}
	return acs.EventPlayCanceled
}

// CancelAllMedia ends the current and every queued operation, each with its
// Canceled event.
func (m *Manager) CancelAllMedia(ctx context.Context, connID string) error {
	c, err := m.byConnection(connID)
	if err != nil {
		return err
	}
	return c.do(ctx, func() error {
		c.cancelOps()
		return nil
	})
}

// cancelOps cancels every operation, current first, then the queue in order.
func (c *Call) cancelOps() {
	ops := c.ops
	c.ops = nil
	for _, op := range ops {
		c.finishOp(op, op.canceledEvent(), acs.ResultCanceled, -1)
	}
}

// pump starts the operation at the head of the queue if none is running.
func (c *Call) pump() {
	c.syncInband()
	if len(c.ops) == 0 || c.ops[0].cancelLoad != nil || c.ops[0].started {
		return
	}
	op := c.ops[0]
	if op.rec != nil && op.rec.voice && op.rec.hearing == nil {
		c.startHearing(op)
	}
	if len(op.sources) == 0 { // a recognize without a prompt
		op.started = true
		c.listen(op)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	op.cancelLoad = cancel
	loader := c.m.prompts
	go func() {
		prompts := make([]*audio.Prompt, 0, len(op.sources))
		var failed int
		var err error
		if loader == nil {
			err = errors.New("no prompt loader configured")
		}
		for i, src := range op.sources {
			if err != nil {
				break
			}
			var p *audio.Prompt
			if p, err = loader.Load(ctx, src); err != nil {
				failed = i
				break
			}
			prompts = append(prompts, p)
		}
		c.post(func() { c.loaded(op, prompts, failed, err) })
	}()
}

// loaded starts playing an operation whose sources are ready, or fails it.
func (c *Call) loaded(op *mediaOp, prompts []*audio.Prompt, failed int, err error) {
	if op.ended {
		return // canceled while loading
	}
	if err != nil {
		res := acs.ResultPlayInternal
		var pe *PlayError
		if errors.As(err, &pe) {
			res = pe.Result
		}
		c.log.Info("play failed", "operation_context", op.opContext, "source", failed, "error", err)
		c.removeOp(op)
		if op.rec != nil {
			c.finishOp(op, acs.EventRecognizeFailed, acs.ResultPromptFailed, failed)
		} else {
			c.finishOp(op, acs.EventPlayFailed, res, failed)
		}
		c.pump()
		return
	}
	n := 1
	if op.targets != nil {
		n = len(op.targets)
	}
	for i := 0; i < n; i++ {
		src := &opSource{player: audio.NewPlayer(prompts, op.loop)}
		src.onDone = func() { c.post(func() { c.playerDone(op) }) }
		op.players = append(op.players, src)
		if op.targets == nil {
			c.mixer.SetSource(src)
		} else {
			op.targets[i].media.SetSource(src)
		}
	}
	op.remaining = n
	op.started = true
	if op.rec == nil {
		c.emitOp(op, acs.EventPlayStarted, acs.ResultPlayOK, -1)
	}
}

// playerDone completes an operation once all its players have finished.
func (c *Call) playerDone(op *mediaOp) {
	if op.ended {
		return
	}
	op.remaining--
	if op.remaining > 0 {
		return
	}
	if op.rec != nil {
		c.stopPlayers(op)
		c.listen(op) // the prompt is over: now the caller's turn
		return
	}
	c.removeOp(op)
	c.finishOp(op, acs.EventPlayCompleted, acs.ResultPlayOK, -1)
	c.pump()
}

// finishOp stops an operation and sends its one terminal event.
func (c *Call) finishOp(op *mediaOp, event string, res acs.ResultInformation, failedIndex int) {
	if op.ended {
		return
	}
	op.ended = true
	if op.cancelLoad != nil {
		op.cancelLoad()
	}
	c.stopPlayers(op)
	if op.rec != nil {
		op.rec.stopTimer()
		c.stopHearing(op.rec)
		defer c.syncInband() // once the operation has left the queue
	}
	c.emitOp(op, event, res, failedIndex)
}

// stopPlayers stops and detaches an operation's audio.
func (c *Call) stopPlayers(op *mediaOp) {
	for i, src := range op.players {
		src.player.Stop()
		src.fired.Store(true) // its done must not complete anything now
		if op.targets == nil {
			c.mixer.SetSource(nil)
		} else {
			op.targets[i].media.SetSource(nil)
		}
	}
	op.players = nil
}

func (c *Call) removeOp(op *mediaOp) {
	for i, o := range c.ops {
		if o == op {
			c.ops = append(c.ops[:i], c.ops[i+1:]...)
			return
		}
	}
}

// emitOp sends an operation's event with its context, to its callback URI.
func (c *Call) emitOp(op *mediaOp, event string, res acs.ResultInformation, failedIndex int) {
	url := op.conn.callbackURI
	if op.callbackURI != "" {
		url = op.callbackURI
	}
	c.emitFor(op.conn, url, op.opContext, event, &res, func(b *acs.CallEventData) any {
		switch {
		case event == acs.EventPlayFailed:
			return acs.PlayFailedData{CallEventData: *b, FailedPlaySourceIndex: failedIndex}
		case event == acs.EventRecognizeFailed && failedIndex >= 0:
			return acs.RecognizeFailedData{CallEventData: *b, FailedPlaySourceIndex: &failedIndex}
		case event == acs.EventRecognizeCompleted:
			return op.rec.result(*b)
		}
		return *b
	})
}

// validateSources checks the shape of play sources.
func validateSources(field string, srcs []acs.PlaySource) error {
	for i, s := range srcs {
		if err := s.Validate(); err != nil {
			return acs.BadRequest("%s[%d]: %v", field, i, err)
		}
	}
	return nil
}

// onConnected runs f on the goroutine of a connected call, with the app
// connection the request came on.
func (m *Manager) onConnected(ctx context.Context, connID string, f func(*Call, *connection) error) error {
	c, err := m.byConnection(connID)
	if err != nil {
		return err
	}
	return c.do(ctx, func() error {
		cn := c.connection(connID)
		if cn == nil || cn.state == acs.StateDisconnected {
			return acs.NotFound("call connection %s has left the call", connID)
		}
		if c.state != stateConnected {
			return acs.Errorf(400, "BadRequest", 8501, "the call is not established (%s)", c.stateText())
		}
		return f(c, cn)
	})
}

// mustParticipant finds a live participant or says it is not in the call.
func (c *Call) mustParticipant(id acs.Identifier) (*participant, error) {
	if p := c.participant(id); p != nil {
		return p, nil
	}
	return nil, acs.Errorf(400, "BadRequest", 8558, "participant %s is not in the call", id.RawID)
}

// participant finds a live participant by identifier.
func (c *Call) participant(id acs.Identifier) *participant {
	for _, p := range c.parts {
		if !p.gone && p.id.RawID == id.RawID {
			return p
		}
	}
	return nil
}

// live lists the participants still in the call.
func (c *Call) live() []*participant {
	var out []*participant
	for _, p := range c.parts {
		if !p.gone {
			out = append(out, p)
		}
	}
	return out
}

var _ media.FrameSource = (*opSource)(nil)

// audioLoop plays a prompt over and over (music on hold).
func audioLoop(p *audio.Prompt) media.FrameSource {
	return audio.NewPlayer([]*audio.Prompt{p}, true)
}

func asPlayError(err error, pe **PlayError) bool { return errors.As(err, pe) }
