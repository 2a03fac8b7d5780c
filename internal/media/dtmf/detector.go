package dtmf

import "time"

// Digit timing, in analysis windows (see the package documentation).
const (
	hitsOn    = 5 // consecutive hits that recognise a digit
	missesOff = 8 // consecutive windows without the digit that end it
)

// Event is a report of the Detector.
type Event struct {
	// Digit is one of '0'-'9', '*', '#', 'A'-'D'.
	Digit byte
	// End is false for the onset, reported once when the digit is
	// recognised, and true when the digit has ended.
	End bool
	// Duration is the tone duration measured so far: about 33 ms at the
	// onset, the whole tone at the end (within a few milliseconds).
	Duration time.Duration
}

// Detector recognises DTMF digits in a stream of 8 kHz 16-bit PCM. Feed it
// with Process; each digit is reported once at its onset and once at its
// end. The zero value is ready to use. A Detector is not safe for
// concurrent use.
type Detector struct {
	hist   [winLen]int16 // last winLen samples, circular
	pos    int           // next write index in hist
	filled int           // valid samples in hist
	since  int           // samples since the last analysis
	now    int64         // samples processed

	win [winLen]float32 // the window being analysed, oldest first
	aux [winLen]float32 // scratch

	cand     byte  // digit of the current run of hits, 0 for none
	run      int   // length of that run
	runStart int64 // sample time at which the run's first window starts
	active   byte  // recognised digit that has not ended, 0 for none
	misses   int   // consecutive windows without active
	first    int64 // start of active's first hit window
	last     int64 // end of active's last hit window
}

// Reset forgets all state, as if the Detector were new. An active digit
// ends without an event.
func (d *Detector) Reset() { *d = Detector{} }

// Process analyses pcm, which may be of any length, and calls emit (when
// not nil) for each onset and end, in order. emit runs before Process
// returns. Process does not allocate.
func (d *Detector) Process(pcm []int16, emit func(Event)) {
	for len(pcm) > 0 {
		n := min(len(pcm), hop-d.since)
		for _, s := range pcm[:n] {
			d.hist[d.pos] = s
			if d.pos++; d.pos == winLen {
				d.pos = 0
			}
		}
		pcm = pcm[n:]
		d.since += n
		d.now += int64(n)
		d.filled = min(d.filled+n, winLen)
		if d.since == hop {
			d.since = 0
			if d.filled == winLen {
				d.step(d.window(), emit)
			}
		}
	}
}

// window unrolls the history into d.win and analyses it.
func (d *Detector) window() byte {
	var e float32
	j := d.pos
	for i := range d.win {
		v := float32(d.hist[j])
		d.win[i] = v
		e += v * v
		if j++; j == winLen {
			j = 0
		}
	}
	e /= winLen
	if e < minTonePower {
		return 0
	}
	return d.analyze(e)
}

// step advances the digit state machine by one window whose result is hit.
func (d *Detector) step(hit byte, emit func(Event)) {
	end := d.now
	if hit != 0 && hit == d.cand {
		d.run++
	} else {
		d.cand, d.run, d.runStart = hit, 0, end-winLen
		if hit != 0 {
			d.run = 1
		}
	}
	if d.active != 0 {
		if hit == d.active {
			d.misses, d.last = 0, end
			return
		}
		if d.misses++; d.misses < missesOff {
			return
		}
		if emit != nil {
			emit(Event{Digit: d.active, End: true, Duration: samples(d.last - d.first)})
		}
		d.active = 0
	}
	if d.run >= hitsOn {
		d.active, d.misses, d.first, d.last = d.cand, 0, d.runStart, end
		if emit != nil {
			emit(Event{Digit: d.active, Duration: samples(end - d.runStart)})
		}
	}
}

func samples(n int64) time.Duration { return time.Duration(n) * time.Second / SampleRate }
