package stt

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Decoder is an engine's recognizer for one utterance, driven by
// NewStream. NewStream calls its methods from one goroutine only, so a
// Decoder needs no locking and may wrap a library that is not
// thread-safe.
type Decoder interface {
	// Process decodes more audio. An error ends the session: later Writes
	// and Finish return it.
	Process(samples []int16) error
	// Partial returns the hypothesis so far, if the engine has one.
	Partial() (Hypothesis, bool)
	// Finish ends the utterance and returns the final result (see
	// Session.Finish), with PhraseIndex -1 unless a phrase matched; ctx
	// ends when the session's Finish gives up or the session is closed.
	// NewStream fills in Result.Stats.
	Finish(ctx context.Context) (Result, error)
	// Close releases the decoder. It is called once, last, whether or not
	// Finish was.
	Close()
}

// StreamOptions tune NewStream. Zero values mean the defaults.
type StreamOptions struct {
	// SampleRate is the rate of the audio written. Default
	// TelephonySampleRate.
	SampleRate int
	// Buffer bounds the audio waiting for the decoder; past it Write drops
	// audio with ErrOverflow. Default 10 s.
	Buffer time.Duration
	// Chunk bounds the audio handed to one Decoder.Process call. Default
	// 100 ms.
	Chunk time.Duration
	// PartialEvery is how much audio is decoded between two refreshes of
	// the partial hypothesis. Default 300 ms; negative: never.
	PartialEvery time.Duration
	// Now is the clock used to measure decode time. Default time.Now.
	Now func() time.Time
	// Log receives the session's warnings. Default: discard.
	Log *slog.Logger
}

// Default stream settings.
const (
	DefaultStreamBuffer = 10 * time.Second
	DefaultStreamChunk  = 100 * time.Millisecond
	DefaultPartialEvery = 300 * time.Millisecond
)

// errFull is returned by Write when the buffer is full. It is a variable
// so that a Write that drops audio does not allocate.
var errFull = fmt.Errorf("%w (the buffer ahead of the decoder is full)", ErrOverflow)

// stream is the Session NewStream returns: a ring buffer that Write fills
// and a goroutine that feeds the decoder from it.
type stream struct {
	dec      Decoder
	rate     int
	chunk    int
	partialN int // samples between partial refreshes; 0 = never
	now      func() time.Time
	log      *slog.Logger

	mu        sync.Mutex
	ring      []int16
	head, n   int // ring[head:head+n] (wrapping) is queued
	accepted  int64
	dropped   int64
	finishing bool  // Finish was called: no more Writes
	closed    bool  // Close was called
	failed    error // the decoder's error, sticky
	partial   Hypothesis
	hasPart   bool
	decode    time.Duration

	wake    chan struct{} // cap 1: audio queued or finishing
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when the goroutine has exited
	result  chan struct{} // closed when res/resErr are set
	cancel  context.CancelFunc
	ctx     context.Context
	res     Result
	resErr  error
	stopped sync.Once
}

// NewStream runs dec on a goroutine of its own behind a bounded buffer
// and returns it as a Session: Write only copies samples (no allocation,
// no waiting), so a slow engine cannot stall the media clock that feeds
// it; the decoder catches up in Chunk-sized steps.
func NewStream(dec Decoder, opts StreamOptions) Session {
	if opts.SampleRate <= 0 {
		opts.SampleRate = TelephonySampleRate
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultStreamBuffer
	}
	if opts.Chunk <= 0 {
		opts.Chunk = DefaultStreamChunk
	}
	if opts.PartialEvery == 0 {
		opts.PartialEvery = DefaultPartialEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	samples := func(d time.Duration) int { return max(1, int(d*time.Duration(opts.SampleRate)/time.Second)) }
	ctx, cancel := context.WithCancel(context.Background())
	s := &stream{
		dec:    dec,
		rate:   opts.SampleRate,
		chunk:  samples(opts.Chunk),
		now:    opts.Now,
		log:    opts.Log,
		ring:   make([]int16, samples(opts.Buffer)),
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		result: make(chan struct{}),
		ctx:    ctx,
		cancel: cancel,
	}
	if opts.PartialEvery > 0 {
		s.partialN = samples(opts.PartialEvery)
	}
	go s.run()
	return s
}

func (s *stream) Write(samples []int16) error {
	if len(samples) == 0 {
		return nil
	}
	s.mu.Lock()
	switch {
	case s.failed != nil:
		err := s.failed
		s.mu.Unlock()
		return err
	case s.finishing || s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.n+len(samples) > len(s.ring):
		s.dropped += int64(len(samples))
		s.mu.Unlock()
		return errFull
	}
	tail := (s.head + s.n) % len(s.ring)
	c := copy(s.ring[tail:], samples)
	copy(s.ring, samples[c:])
	s.n += len(samples)
	s.accepted += int64(len(samples))
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

func (s *stream) Partial() (Hypothesis, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.partial, s.hasPart
}

func (s *stream) Finish(ctx context.Context) (Result, error) {
	select {
	case <-s.result:
		return s.res, s.resErr
	default:
	}
	s.mu.Lock()
	if s.closed && !s.finishing {
		s.mu.Unlock()
		return Result{PhraseIndex: -1}, ErrClosed
	}
	s.finishing = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	select {
	case <-s.result:
		return s.res, s.resErr
	case <-ctx.Done():
		s.cancel() // the decoder's Finish gives up too
		return Result{PhraseIndex: -1}, fmt.Errorf("stt: waiting for the final result: %w", ctx.Err())
	case <-s.stop:
		return Result{PhraseIndex: -1}, ErrClosed
	}
}

func (s *stream) Close() {
	s.stopped.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		close(s.stop)
	})
	<-s.done
}

// run feeds the decoder until Finish or Close.
func (s *stream) run() {
	defer close(s.done)
	defer s.dec.Close()
	buf := make([]int16, s.chunk)
	sincePartial := 0
	for {
		select {
		case <-s.wake:
		case <-s.stop:
			return
		}
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			s.mu.Lock()
			n := min(s.n, len(buf))
			c := copy(buf[:n], s.ring[s.head:min(s.head+n, len(s.ring))])
			copy(buf[c:n], s.ring[:n-c])
			s.head = (s.head + n) % len(s.ring)
			s.n -= n
			finishing, failed := s.finishing, s.failed != nil
			s.mu.Unlock()
			if n == 0 || failed {
				if finishing {
					s.finish()
					return
				}
				break
			}
			start := s.now()
			err := s.dec.Process(buf[:n])
			var part Hypothesis
			var hasPart bool
			if sincePartial += n; err == nil && s.partialN > 0 && sincePartial >= s.partialN {
				sincePartial = 0
				part, hasPart = s.dec.Partial()
			}
			took := s.now().Sub(start)
			s.mu.Lock()
			s.decode += took
			if err != nil && s.failed == nil {
				s.failed = err
				s.log.Warn("stt: decoder failed", "err", err)
			}
			if hasPart {
				s.partial, s.hasPart = part, true
			}
			s.mu.Unlock()
		}
	}
}

// finish runs the decoder's Finish and publishes the result.
func (s *stream) finish() {
	s.mu.Lock()
	failed := s.failed
	s.mu.Unlock()
	var (
		res Result
		err error
	)
	start := s.now()
	if failed != nil {
		res, err = Result{PhraseIndex: -1}, failed
	} else {
		res, err = s.dec.Finish(s.ctx)
	}
	took := s.now().Sub(start)
	s.mu.Lock()
	s.decode += took
	res.Stats = Stats{
		Audio:   s.duration(s.accepted),
		Dropped: s.duration(s.dropped),
		Decode:  s.decode,
	}
	s.mu.Unlock()
	s.res, s.resErr = res, err
	close(s.result)
}

func (s *stream) duration(samples int64) time.Duration {
	return time.Duration(samples) * time.Second / time.Duration(s.rate)
}
