package audio

import "sync/atomic"

// Player plays a list of prompts in order, as a media.FrameSource.
//
// ReadFrame contract (dst of any length, normally media.FrameSamples):
//
//   - Samples run on from one prompt into the next inside a frame: there is
//     no gap between the prompts of a list, nor between the end of the
//     list and its start again when looping. Empty (or nil) prompts are
//     skipped.
//   - While samples remain, ReadFrame fills all of dst and returns
//     (len(dst), false). The frame that holds the last samples is padded
//     with zeros (silence) after them and is still returned with
//     done == false.
//   - The first call that finds no samples left returns (0, true), as does
//     every later call. So done comes one call after the last samples, when
//     they have been played out, and never carries audio.
//   - A player over an empty list (or only empty prompts) returns (0, true)
//     on its first call, even with loop set.
//   - After Stop, the next call returns (0, true) without touching dst.
//   - An empty dst reads nothing and returns (0, false).
//
// ReadFrame must be called from one goroutine at a time (the media clock).
// Stop, Index, Position, Stopped and Done may be called from any goroutine
// at any time. ReadFrame does not allocate.
type Player struct {
	sources [][]int16
	loop    bool
	total   int // samples in one pass over the list

	// Owned by the ReadFrame goroutine.
	cur      int // index into sources
	off      int // next sample in sources[cur]
	finished bool

	stopped atomic.Bool
	index   atomic.Int64
	pos     atomic.Int64
	done    chan struct{}
}

// NewPlayer returns a player for prompts, played in order; with loop the
// whole list repeats until Stop. The prompts are shared, not copied.
func NewPlayer(prompts []*Prompt, loop bool) *Player {
	p := &Player{
		sources: make([][]int16, len(prompts)),
		loop:    loop,
		done:    make(chan struct{}),
	}
	for i, pr := range prompts {
		if pr != nil {
			p.sources[i] = pr.Samples
			p.total += len(pr.Samples)
		}
	}
	return p
}

// ReadFrame implements media.FrameSource; see Player for the contract.
func (p *Player) ReadFrame(dst []int16) (n int, done bool) {
	if p.finished {
		return 0, true
	}
	if p.stopped.Load() {
		p.finish()
		return 0, true
	}
	if len(dst) == 0 {
		return 0, false
	}
	for n < len(dst) && p.total > 0 {
		if p.cur >= len(p.sources) {
			if !p.loop {
				break
			}
			p.cur, p.off = 0, 0
			p.index.Store(0)
		}
		src := p.sources[p.cur]
		if p.off >= len(src) {
			if p.cur+1 < len(p.sources) {
				p.index.Store(int64(p.cur + 1))
			}
			p.cur++
			p.off = 0
			continue
		}
		c := copy(dst[n:], src[p.off:])
		n += c
		p.off += c
	}
	if n == 0 {
		p.finish()
		return 0, true
	}
	clear(dst[n:])
	p.pos.Add(int64(n))
	return len(dst), false
}

func (p *Player) finish() {
	p.finished = true
	close(p.done)
}

// Stop makes the next ReadFrame return done. It is idempotent and safe to
// call from any goroutine.
func (p *Player) Stop() { p.stopped.Store(true) }

// Stopped reports whether Stop was called.
func (p *Player) Stopped() bool { return p.stopped.Load() }

// Index reports the position in the list of the prompt being played: 0
// before the first frame, then the prompt that supplied the latest samples
// (or, at a boundary, the next one once it starts). When the list has been
// played out it stays on the last prompt; with loop it returns to 0.
func (p *Player) Index() int { return int(p.index.Load()) }

// Position reports how many samples (at SampleRate) have been played,
// counting every pass of a loop and excluding the silence that pads the
// last frame.
func (p *Player) Position() int64 { return p.pos.Load() }

// Done is closed when ReadFrame has returned done, i.e. the list was
// played out or ReadFrame ran after Stop. A player that is detached from
// the media engine before that (its leg or call closed) never closes Done.
func (p *Player) Done() <-chan struct{} { return p.done }
