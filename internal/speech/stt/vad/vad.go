// Package vad detects speech in 8 kHz telephony audio, one 20 ms frame at
// a time, to tell a recognizer when the caller started and stopped
// talking (ACS's initial silence and endSilenceTimeoutInMs).
//
//	d, err := vad.New(vad.Config{EndSilence: 800 * time.Millisecond})
//	for each frame {
//		switch ev := d.Process(frame); ev.Kind {
//		case vad.SpeechStart: // speech began at frame ev.Frame
//		case vad.SpeechEnd:   // and ended at ev.Frame (EndSilence ago)
//		}
//	}
//
// # How
//
// Each frame goes through a DC blocker (a first-order high-pass at about
// 100 Hz, which also removes mains hum) and its level is taken in dBFS
// (RMS against full scale). A noise floor follows the quiet frames: it
// drops quickly (a fifth of the way per frame) towards a quieter frame
// and rises slowly (at most 0.25 dB per frame, 12.5 dB/s) towards a
// louder one, and does not rise at all during speech. The first frame
// sets it.
//
// A frame is loud when its level is Threshold dB over the floor and over
// MinLevel. Speech starts after OnsetFrames loud frames in a row of which
// at least half are voiced (zero-crossing rate under MaxZCR): one or two
// loud frames (line clicks, pops) never start speech, and neither does
// broadband noise that appears suddenly (its zero-crossing rate is about
// 0.5) — the floor climbs to it instead. SpeechStart reports the first
// frame of that run, so the onset is where the speech began, not where
// it was confirmed. During speech a frame counts as silent when it is
// not Threshold−Hysteresis dB over the floor; EndSilence of silent frames
// in a row ends the speech, and SpeechEnd reports the first of them.
//
// The detector is deterministic (no clock, no randomness: the same audio
// gives the same events) and Process does not allocate. It is not safe
// for concurrent use.
package vad

import (
	"fmt"
	"math"
	"time"
)

// Config tunes a Detector. Zero values mean the defaults.
type Config struct {
	// SampleRate of the audio. Default 8000.
	SampleRate int
	// FrameSize is the number of samples per Process call, used to turn
	// EndSilence into frames. Default 20 ms (160 at 8 kHz).
	FrameSize int
	// Threshold is how far above the noise floor (dB) a frame must be to
	// be speech. Default 10.
	Threshold float64
	// Hysteresis lowers the threshold during speech (dB). Default 4.
	Hysteresis float64
	// MinLevel is the level (dBFS) below which nothing is speech, however
	// quiet the line. Default -50.
	MinLevel float64
	// OnsetFrames is how many loud frames in a row start speech. Default 4
	// (80 ms).
	OnsetFrames int
	// MaxZCR is the zero-crossing rate (crossings per sample) under which
	// a frame counts as voiced. Default 0.35.
	MaxZCR float64
	// EndSilence is how long speech must stay silent to end
	// (endSilenceTimeoutInMs). Default 500 ms.
	EndSilence time.Duration
}

// Defaults.
const (
	DefaultSampleRate  = 8000
	DefaultThreshold   = 10.0
	DefaultHysteresis  = 4.0
	DefaultMinLevel    = -50.0
	DefaultOnsetFrames = 4
	DefaultMaxZCR      = 0.35
	DefaultEndSilence  = 500 * time.Millisecond

	floorFall  = 0.2   // share of the gap closed per frame towards a quieter frame
	floorRise  = 0.25  // dB per frame at most towards a louder one
	minLevel   = -100. // dBFS of digital silence
	dcPole     = 0.92  // DC blocker pole: -3 dB near 100 Hz at 8 kHz
	fullScale2 = 32768. * 32768.
)

// Kind is what happened at a frame.
type Kind uint8

// Event kinds.
const (
	None Kind = iota
	SpeechStart
	SpeechEnd
)

func (k Kind) String() string {
	switch k {
	case SpeechStart:
		return "SpeechStart"
	case SpeechEnd:
		return "SpeechEnd"
	}
	return "None"
}

// Event is what Process detected, with Frame the index (from 0, counting
// every Process call since New or Reset) of the frame where speech
// started (SpeechStart) or where the silence that ended it began
// (SpeechEnd).
type Event struct {
	Kind  Kind
	Frame int
}

// Detector finds speech in a stream of frames.
type Detector struct {
	cfg        Config
	endFrames  int
	onsetVoice int // voiced frames needed in the onset run

	frame    int     // index of the next frame
	floor    float64 // dBFS
	level    float64 // of the last frame
	inSpeech bool
	run      int // loud frames in a row (before speech)
	voiced   int // of which voiced
	silent   int // silent frames in a row (during speech)
	prevX    float64
	prevY    float64
}

// New returns a detector for cfg.
func New(cfg Config) (*Detector, error) {
	if cfg.SampleRate == 0 {
		cfg.SampleRate = DefaultSampleRate
	}
	if cfg.FrameSize == 0 {
		cfg.FrameSize = cfg.SampleRate / 50
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultThreshold
	}
	if cfg.Hysteresis == 0 {
		cfg.Hysteresis = DefaultHysteresis
	}
	if cfg.MinLevel == 0 {
		cfg.MinLevel = DefaultMinLevel
	}
	if cfg.OnsetFrames == 0 {
		cfg.OnsetFrames = DefaultOnsetFrames
	}
	if cfg.MaxZCR == 0 {
		cfg.MaxZCR = DefaultMaxZCR
	}
	if cfg.EndSilence == 0 {
		cfg.EndSilence = DefaultEndSilence
	}
	switch {
	case cfg.SampleRate < 1000 || cfg.FrameSize < 1:
		return nil, fmt.Errorf("vad: sample rate %d and frame size %d", cfg.SampleRate, cfg.FrameSize)
	case cfg.Threshold < 0 || cfg.Hysteresis < 0 || cfg.Hysteresis >= cfg.Threshold:
		return nil, fmt.Errorf("vad: threshold %g dB with hysteresis %g dB", cfg.Threshold, cfg.Hysteresis)
	case cfg.OnsetFrames < 1 || cfg.EndSilence < 0 || cfg.MaxZCR < 0:
		return nil, fmt.Errorf("vad: onset of %d frames, end silence %v, zero-crossing rate %g", cfg.OnsetFrames, cfg.EndSilence, cfg.MaxZCR)
	}
	frameDur := time.Duration(cfg.FrameSize) * time.Second / time.Duration(cfg.SampleRate)
	d := &Detector{
		cfg:        cfg,
		endFrames:  max(1, int((cfg.EndSilence+frameDur-1)/frameDur)),
		onsetVoice: (cfg.OnsetFrames + 1) / 2,
	}
	d.Reset()
	return d, nil
}

// Config returns the configuration with the defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// Reset forgets everything: the next frame is frame 0 and sets the floor.
func (d *Detector) Reset() {
	*d = Detector{cfg: d.cfg, endFrames: d.endFrames, onsetVoice: d.onsetVoice, floor: math.NaN(), level: minLevel}
}

// InSpeech reports whether speech has started and not ended.
func (d *Detector) InSpeech() bool { return d.inSpeech }

// NoiseFloor is the current noise floor in dBFS.
func (d *Detector) NoiseFloor() float64 { return d.floor }

// Level is the level of the last frame in dBFS.
func (d *Detector) Level() float64 { return d.level }

// Frames is the number of frames processed.
func (d *Detector) Frames() int { return d.frame }

// Process takes the next frame and reports what happened. An empty frame
// is ignored.
func (d *Detector) Process(frame []int16) Event {
	if len(frame) == 0 {
		return Event{}
	}
	idx := d.frame
	d.frame++
	level, zcr := d.measure(frame)
	d.level = level
	if math.IsNaN(d.floor) {
		d.floor = level
	}
	if !d.inSpeech {
		loud := level > d.floor+d.cfg.Threshold && level > d.cfg.MinLevel
		d.track(level)
		if !loud {
			d.run, d.voiced = 0, 0
			return Event{}
		}
		d.run++
		if zcr < d.cfg.MaxZCR {
			d.voiced++
		}
		if d.run < d.cfg.OnsetFrames || d.voiced < d.onsetVoice {
			return Event{}
		}
		d.inSpeech, d.silent = true, 0
		start := idx - d.run + 1
		d.run, d.voiced = 0, 0
		return Event{Kind: SpeechStart, Frame: start}
	}
	if level < d.floor {
		d.track(level) // the floor may still fall during speech
	}
	if level > d.floor+d.cfg.Threshold-d.cfg.Hysteresis && level > d.cfg.MinLevel {
		d.silent = 0
		return Event{}
	}
	d.silent++
	if d.silent < d.endFrames {
		return Event{}
	}
	d.inSpeech = false
	end := idx - d.silent + 1
	d.silent = 0
	return Event{Kind: SpeechEnd, Frame: end}
}

// track moves the noise floor towards level.
func (d *Detector) track(level float64) {
	if level < d.floor {
		d.floor += (level - d.floor) * floorFall
	} else {
		d.floor += min(level-d.floor, floorRise)
	}
}

// measure runs the DC blocker over frame and returns its level (dBFS)
// and zero-crossing rate.
func (d *Detector) measure(frame []int16) (level, zcr float64) {
	var energy float64
	crossings := 0
	x1, y1 := d.prevX, d.prevY
	neg := y1 < 0
	for _, s := range frame {
		x := float64(s)
		y := x - x1 + dcPole*y1
		x1, y1 = x, y
		energy += y * y
		if (y < 0) != neg {
			crossings++
			neg = y < 0
		}
	}
	d.prevX, d.prevY = x1, y1
	energy /= float64(len(frame))
	level = minLevel
	if energy > 0 {
		level = max(minLevel, 10*math.Log10(energy/fullScale2))
	}
	return level, float64(crossings) / float64(len(frame))
}
