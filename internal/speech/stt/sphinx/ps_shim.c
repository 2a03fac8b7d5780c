//go:build pocketsphinx && cgo

#include "ps_shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/ngram_model.h>
#include <stdlib.h>
#include <string.h>

// Implemented in Go (ps_cgo.go).
extern void switchboardSphinxLog(int level, char *msg);

static void sb_log_cb(void *user, err_lvl_t lvl, const char *fmt, ...) {
	(void)user;
	if (lvl < ERR_WARN) {
		return;
	}
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	switchboardSphinxLog((int)lvl, buf);
}

void sb_log_to_go(void) {
	err_set_callback(sb_log_cb, NULL);
	err_set_logfp(NULL); // the argument table is printed to it directly
}

ps_decoder_t *sb_init(int argc, char **argv) {
	cmd_ln_t *config = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
	if (config == NULL) {
		return NULL;
	}
	ps_decoder_t *ps = ps_init(config);
	cmd_ln_free_r(config); // ps_init holds its own reference
	return ps;
}

int sb_cmn_veclen(ps_decoder_t *ps) {
	feat_t *f = ps_get_feat(ps);
	return (f != NULL && f->cmn_struct != NULL) ? f->cmn_struct->veclen : 0;
}

void sb_cmn_get(ps_decoder_t *ps, mfcc_t *vec) {
	cmn_live_get(ps_get_feat(ps)->cmn_struct, vec);
}

void sb_cmn_set(ps_decoder_t *ps, mfcc_t const *vec) {
	cmn_live_set(ps_get_feat(ps)->cmn_struct, vec);
}

int sb_segments(ps_decoder_t *ps, sb_seg *out, int max) {
	logmath_t *lmath = ps_get_logmath(ps);
	int n = 0;
	for (ps_seg_t *seg = ps_seg_iter(ps); seg != NULL; seg = ps_seg_next(seg)) {
		if (n < max) {
			int32 ascr = 0, lscr = 0, lback = 0;
			int32 post = ps_seg_prob(seg, &ascr, &lscr, &lback);
			out[n].word = ps_seg_word(seg);
			ps_seg_frames(seg, &out[n].start, &out[n].end);
			out[n].ascr = ascr;
			out[n].posterior = logmath_exp(lmath, post);
		}
		n++;
	}
	return n;
}

char *sb_unigrams(ps_decoder_t *ps, const char *path) {
	ngram_model_t *lm = ngram_model_read(ps_get_config(ps), path, NGRAM_AUTO, ps_get_logmath(ps));
	if (lm == NULL) {
		return NULL;
	}
	logmath_t *lmath = ps_get_logmath(ps);
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap);
	if (out == NULL) {
		ngram_model_free(lm);
		return NULL;
	}
	out[0] = '\0';
	uint32 n = ngram_model_get_counts(lm)[0];
	for (uint32 wid = 0; wid < n; wid++) {
		const char *w = ngram_word(lm, (int32)wid);
		if (w == NULL) {
			continue;
		}
		int32 score = ngram_prob(lm, &w, 1);
		size_t need = strlen(w) + 32;
		if (len + need >= cap) {
			char *grown = realloc(out, cap * 2);
			if (grown == NULL) {
				break;
			}
			out = grown;
			cap *= 2;
		}
		len += snprintf(out + len, cap - len, "%.4f %s\n", logmath_log_to_log10(lmath, score), w);
	}
	ngram_model_free(lm);
	return out;
}
