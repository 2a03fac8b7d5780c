package media

import (
	"errors"
	"net/netip"
	"slices"
	"sync"
)

// Mixer is the audio bridge of one call. Legs join it with Add. On every
// tick of the engine clock each started leg receives the mix-minus of the
// call: the sum of what every other non-muted leg sent during the last
// frame, plus the call's source (SetSource) and the leg's own source
// (Leg.SetSource), saturated to 16 bits and encoded with the leg's codec.
// When there is nothing to hear the leg receives encoded silence, which
// keeps the peer's media timers alive. A 1:1 call is a mixer with one leg;
// a bridged call is a mixer with two.
type Mixer struct {
	e  *Engine
	mu sync.Mutex // guards the fields below; held during a tick

	legs   []*Leg
	source *sourceBox
	closed bool // written under e.mu and mu

	acc   [FrameSamples]int32 // sum of contributing legs, tick scratch
	voice [FrameSamples]int16 // call source frame, tick scratch
}

// mixState is a leg's per-tick mixing state, owned by the clock goroutine.
type mixState struct {
	active      bool // started and not closed during this tick
	contributes bool // in holds audio that is part of acc
	in          [FrameSamples]int16
	out         [FrameSamples]int16
	src         [FrameSamples]int16
	// Snapshot of the leg's settings taken at the start of the tick.
	tap    func([]int16)
	source *sourceBox
	to     netip.AddrPort
}

var errForeignLeg = errors.New("media: leg belongs to another engine")

// NewMixer creates an empty mixer driven by the engine's clock. A mixer
// created after Run returned is closed.
func (e *Engine) NewMixer() *Mixer {
	m := &Mixer{e: e}
	e.mu.Lock()
	if e.closed {
		m.closed = true
	} else {
		e.mixers[m] = struct{}{}
	}
	e.mu.Unlock()
	return m
}

// Add makes l a participant, moving it out of any other mixer. It returns
// ErrClosed if the mixer or the leg is closed.
func (m *Mixer) Add(l *Leg) error {
	e := m.e
	if l.e != e {
		return errForeignLeg
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if m.closed || l.closed.Load() {
		return ErrClosed
	}
	old := l.mixer
	if old == m {
		return nil
	}
	if old != nil {
		old.mu.Lock()
		old.removeLocked(l)
		old.mu.Unlock()
	}
	m.mu.Lock()
	m.legs = append(m.legs, l)
	m.mu.Unlock()
	l.mixer = m
	return nil
}

// Remove takes l out of the mixer without closing it. A leg outside any
// mixer neither sends nor mixes; it still receives and reports DTMF.
func (m *Mixer) Remove(l *Leg) {
	e := m.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if l.mixer != m {
		return
	}
	m.mu.Lock()
	m.removeLocked(l)
	m.mu.Unlock()
	l.mixer = nil
}

func (m *Mixer) removeLocked(l *Leg) {
	if i := slices.Index(m.legs, l); i >= 0 {
		m.legs = slices.Delete(m.legs, i, i+1)
	}
}

// SetSource attaches the call's source, heard by every leg, replacing any
// previous one; nil detaches. See FrameSource.
func (m *Mixer) SetSource(src FrameSource) {
	var b *sourceBox
	if src != nil {
		b = &sourceBox{src}
	}
	m.mu.Lock()
	m.source = b
	m.mu.Unlock()
}

// Close removes the mixer from the engine and closes every leg still in
// it. It is idempotent.
func (m *Mixer) Close() {
	e := m.e
	e.mu.Lock()
	delete(e.mixers, m)
	m.mu.Lock()
	legs := m.legs
	m.legs = nil
	m.source = nil
	m.closed = true
	m.mu.Unlock()
	for _, l := range legs {
		l.mixer = nil
	}
	e.mu.Unlock()
	for _, l := range legs {
		l.Close()
	}
}

// tick runs one frame of the mixer on the clock goroutine. skip is the
// number of frames the clock could not run before this one. It must not
// allocate.
func (m *Mixer) tick(skip uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	clear(m.acc[:])
	for _, l := range m.legs {
		l.gather(&m.acc)
	}
	voice := m.readVoice()
	for _, l := range m.legs {
		l.emit(&m.acc, voice, skip)
	}
}

// readVoice reads the call source, returning nil when it has nothing.
func (m *Mixer) readVoice() *[FrameSamples]int16 {
	if m.source == nil {
		return nil
	}
	n, done := readSource(m.source, &m.voice)
	if done {
		m.source = nil
	}
	if n == 0 {
		return nil
	}
	return &m.voice
}

// readSource reads one frame from src, silencing what it did not write.
func readSource(src *sourceBox, dst *[FrameSamples]int16) (int, bool) {
	n, done := src.ReadFrame(dst[:])
	n = min(max(n, 0), FrameSamples)
	clear(dst[n:])
	return n, done
}

// gather pulls the leg's received frame for this tick, shows it to the tap
// and adds it to acc unless the leg is muted.
func (l *Leg) gather(acc *[FrameSamples]int32) {
	ms := &l.mix
	ms.active = l.started.Load() && !l.closed.Load()
	ms.contributes = false
	if !ms.active {
		return
	}
	l.mu.Lock()
	ms.tap, ms.source, ms.to = l.tap, l.source, l.txAddr
	l.nextDigitsLocked()
	l.mu.Unlock()

	has := l.pullFrame(&ms.in)
	if !has {
		clear(ms.in[:])
	}
	if ms.tap != nil {
		ms.tap(ms.in[:])
	}
	if has && !l.muted.Load() {
		ms.contributes = true
		for i, s := range ms.in {
			acc[i] += int32(s)
		}
	}
}

// emit builds and sends the leg's mix-minus frame, or the DTMF being sent
// (SendDigits) in its place or mixed into it.
func (l *Leg) emit(acc *[FrameSamples]int32, voice *[FrameSamples]int16, skip uint32) {
	ms := &l.mix
	if !ms.active {
		return
	}
	// The leg's own source advances in real time even while on hold.
	var own *[FrameSamples]int16
	if b := ms.source; b != nil {
		n, done := readSource(b, &ms.src)
		if done {
			l.clearSource(b)
		}
		if n > 0 {
			own = &ms.src
		}
	}
	ms.tap, ms.source = nil, nil

	out := &ms.out
	for i, v := range acc {
		if ms.contributes {
			v -= int32(ms.in[i])
		}
		if voice != nil {
			v += int32(voice[i])
		}
		if own != nil {
			v += int32(own[i])
		}
		out[i] = saturate(v)
	}
	neg := l.neg.Load()
	l.tx.ts += skip * FrameSamples
	ev := l.digitTick(out, neg, l.tx.ts)
	l.sendFrame(out, ev, neg, ms.to)
}
