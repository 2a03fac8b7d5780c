//go:build pocketsphinx && cgo

// C side of the PocketSphinx binding (see ps_cgo.go): decoder creation
// from an argv, the log callback into Go, and a flat segment iterator.
#ifndef SWITCHBOARD_PS_SHIM_H
#define SWITCHBOARD_PS_SHIM_H

#include <pocketsphinx.h>

// sb_init parses argc/argv (argv[0] is skipped as the program name) and
// creates a decoder; NULL on failure (the reason went to the log).
ps_decoder_t *sb_init(int argc, char **argv);

// sb_log_to_go routes the library's warnings and errors to Go.
void sb_log_to_go(void);

// sb_cmn_veclen is the length of the decoder's cepstral mean vector (0
// when it has none); sb_cmn_get and sb_cmn_set read and replace the live
// cepstral mean, so that each utterance can start from the model's
// initial estimate instead of the previous caller's.
int sb_cmn_veclen(ps_decoder_t *ps);
void sb_cmn_get(ps_decoder_t *ps, mfcc_t *vec);
void sb_cmn_set(ps_decoder_t *ps, mfcc_t const *vec);

// sb_seg is one word of the best path.
typedef struct {
	const char *word;
	int start, end;
	int ascr;
	double posterior;
} sb_seg;

// sb_segments fills up to max segments of the current best path and
// returns how many there are (which may exceed max).
int sb_segments(ps_decoder_t *ps, sb_seg *out, int max);

// sb_unigrams reads the language model at path and returns its unigrams,
// one "log10prob word" line each, in a malloc'd string (NULL on failure).
char *sb_unigrams(ps_decoder_t *ps, const char *path);

#endif
