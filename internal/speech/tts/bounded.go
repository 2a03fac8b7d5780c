package tts

import (
	"bytes"
	"errors"
)

// errOverflow stops a process whose output exceeds its bound.
var errOverflow = errors.New("tts: output limit exceeded")

// boundedBuffer collects at most max bytes. Past that it fails the write
// (which makes exec close the pipe, so the writer gets SIGPIPE) or, with
// truncate, silently drops the rest. It deliberately has no ReadFrom, so
// io.Copy goes through Write.
type boundedBuffer struct {
	buf      bytes.Buffer
	max      int64
	truncate bool
	overflow bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	room := b.max - int64(b.buf.Len())
	if int64(len(p)) <= room {
		return b.buf.Write(p)
	}
	b.overflow = true
	if !b.truncate {
		return 0, errOverflow
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	return len(p), nil
}

func (b *boundedBuffer) Bytes() []byte  { return b.buf.Bytes() }
func (b *boundedBuffer) String() string { return b.buf.String() }
