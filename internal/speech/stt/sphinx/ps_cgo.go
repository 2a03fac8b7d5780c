//go:build pocketsphinx && cgo

package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <sphinxbase/err.h>
#include "ps_shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Compiled reports whether this build has the PocketSphinx binding.
const Compiled = true

// libLog receives the library's warnings and errors (it has one global
// log callback); the last error is kept to explain a failed call.
var (
	libLogOnce sync.Once
	libLogger  atomic.Pointer[slog.Logger]
	lastErrMu  sync.Mutex
	lastErr    string
)

//export switchboardSphinxLog
func switchboardSphinxLog(level C.int, msg *C.char) {
	s := strings.TrimSpace(C.GoString(msg))
	if s == "" {
		return
	}
	log := libLogger.Load()
	if level >= C.ERR_ERROR {
		lastErrMu.Lock()
		lastErr = s
		lastErrMu.Unlock()
		if log != nil {
			log.Warn("sphinx: pocketsphinx error", "msg", s)
		}
		return
	}
	if log != nil {
		log.Debug("sphinx: pocketsphinx warning", "msg", s)
	}
}

// takeLastErr returns and clears the last error the library logged.
func takeLastErr() string {
	lastErrMu.Lock()
	defer lastErrMu.Unlock()
	s := lastErr
	lastErr = ""
	return s
}

func libError(what string) error {
	if s := takeLastErr(); s != "" {
		return fmt.Errorf("%s: %s", what, s)
	}
	return errors.New(what)
}

// cDecoder is a ps_decoder_t.
type cDecoder struct {
	ps       *C.ps_decoder_t
	argv     []*C.char // kept alive for the decoder's config
	grammar  string    // JSGF of the "grammar" search, "" when none
	lmLoaded bool
	segBuf   []C.sb_seg
	cmn0     []C.mfcc_t // the initial cepstral mean, restored at each start
}

func openDecoder(o Options, log *slog.Logger) (psDecoder, error) {
	libLogOnce.Do(func() { C.sb_log_to_go() })
	if log != nil {
		libLogger.Store(log)
	}
	args := append([]string{"switchboard"}, decoderArgs(o)...)
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	cargv := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof(argv[0]))))
	defer C.free(unsafe.Pointer(cargv))
	copy(unsafe.Slice(cargv, len(argv)), argv)
	takeLastErr()
	ps := C.sb_init(C.int(len(argv)), cargv)
	if ps == nil {
		for _, a := range argv {
			C.free(unsafe.Pointer(a))
		}
		return nil, openErr(o, libError("ps_init failed"))
	}
	d := &cDecoder{ps: ps, argv: argv, segBuf: make([]C.sb_seg, 64)}
	if n := int(C.sb_cmn_veclen(ps)); n > 0 {
		d.cmn0 = make([]C.mfcc_t, n)
		C.sb_cmn_get(ps, &d.cmn0[0])
	}
	return d, nil
}

var (
	searchGrammar = C.CString("grammar")
	searchLM      = C.CString("lm")
)

func (d *cDecoder) useGrammar(jsgf string) error {
	if jsgf != d.grammar {
		cs := C.CString(jsgf)
		defer C.free(unsafe.Pointer(cs))
		takeLastErr()
		if C.ps_set_jsgf_string(d.ps, searchGrammar, cs) != 0 {
			d.grammar = ""
			return libError("ps_set_jsgf_string failed")
		}
		d.grammar = jsgf
	}
	if C.ps_set_search(d.ps, searchGrammar) != 0 {
		return libError("ps_set_search(grammar) failed")
	}
	return nil
}

func (d *cDecoder) useLM(path string) error {
	if !d.lmLoaded {
		cp := C.CString(path)
		defer C.free(unsafe.Pointer(cp))
		takeLastErr()
		if C.ps_set_lm_file(d.ps, searchLM, cp) != 0 {
			return libError("loading the language model " + path)
		}
		d.lmLoaded = true
	}
	if C.ps_set_search(d.ps, searchLM) != 0 {
		return libError("ps_set_search(lm) failed")
	}
	return nil
}

func (d *cDecoder) start() error {
	if len(d.cmn0) > 0 {
		C.sb_cmn_set(d.ps, &d.cmn0[0])
	}
	if C.ps_start_utt(d.ps) < 0 {
		return libError("ps_start_utt failed")
	}
	return nil
}

func (d *cDecoder) process(samples []int16, full bool) error {
	if len(samples) == 0 {
		return nil
	}
	fullUtt := C.int(0)
	if full {
		fullUtt = 1
	}
	n := C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&samples[0])), C.size_t(len(samples)), 0, fullUtt)
	if n < 0 {
		return libError("ps_process_raw failed")
	}
	return nil
}

func (d *cDecoder) end() error {
	if C.ps_end_utt(d.ps) < 0 {
		return libError("ps_end_utt failed")
	}
	return nil
}

func (d *cDecoder) hyp() string {
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return ""
	}
	return C.GoString(h)
}

func (d *cDecoder) segments() []segment {
	n := int(C.sb_segments(d.ps, &d.segBuf[0], C.int(len(d.segBuf))))
	if n > len(d.segBuf) {
		d.segBuf = make([]C.sb_seg, n)
		n = int(C.sb_segments(d.ps, &d.segBuf[0], C.int(len(d.segBuf))))
	}
	out := make([]segment, n)
	for i, s := range d.segBuf[:n] {
		out[i] = segment{
			word:      C.GoString(s.word),
			start:     int(s.start),
			end:       int(s.end),
			ascr:      int32(s.ascr),
			posterior: float64(s.posterior),
		}
	}
	return out
}

func (d *cDecoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
	for _, a := range d.argv {
		C.free(unsafe.Pointer(a))
	}
	d.argv = nil
}

func (d *cDecoder) pronunciation(word string) string {
	cw := C.CString(word)
	defer C.free(unsafe.Pointer(cw))
	p := C.ps_lookup_word(d.ps, cw)
	if p == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
}

func (d *cDecoder) unigrams(path string) ([]unigram, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	takeLastErr()
	out := C.sb_unigrams(d.ps, cp)
	if out == nil {
		return nil, libError("reading the language model " + path)
	}
	defer C.free(unsafe.Pointer(out))
	return parseUnigrams(C.GoString(out)), nil
}
