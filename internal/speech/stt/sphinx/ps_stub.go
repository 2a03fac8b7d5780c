//go:build !pocketsphinx || !cgo

package sphinx

import "log/slog"

// Compiled reports whether this build has the PocketSphinx binding: it
// does not (built without -tags pocketsphinx, or without cgo).
const Compiled = false

func openDecoder(o Options, log *slog.Logger) (psDecoder, error) {
	return nil, errNotCompiled
}
