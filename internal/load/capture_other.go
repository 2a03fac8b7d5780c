//go:build !linux

package load

import (
	"errors"
	"log/slog"
)

// Capture is only implemented on Linux (AF_PACKET); elsewhere the harness
// uses SIPp's own timings.
type Capture struct{}

// OpenCapture fails: there is no packet capture on this platform.
func OpenCapture(string, *slog.Logger) (*Capture, error) {
	return nil, errors.New("capture: only supported on Linux")
}

// Reset does nothing.
func (c *Capture) Reset(captureFilter) error { return nil }

// Snapshot returns an empty result.
func (c *Capture) Snapshot() *traceResult {
	return &traceResult{Gaps: newHistogram(50_000, 2_000_000_000)}
}

// Close does nothing.
func (c *Capture) Close() error { return nil }
