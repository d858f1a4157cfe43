/*
 * ratio: fuzzy string similarity scores on 0..100, the WRatio family that the seed
 * system (rapidfuzz) and fuzzywuzzy use, on strings of Unicode code points.
 *
 * ratio is the normalised Indel similarity 100 * 2 * LCS / (|a| + |b|), rounded as
 * Python's round() does. partial_ratio is the best ratio of the shorter string against
 * every window of the longer one of the same length; fuzzywuzzy picks windows from a
 * heuristic alignment and can miss the best one, so it is sometimes lower, never higher.
 * token_sort_ratio sorts the words first; token_set_ratio compares the shared words with
 * each side's remainder. wratio combines them with fuzzywuzzy 0.18's weights and
 * cut-offs. Inputs are expected already normalised (names/normalize.h): words separated
 * by single spaces. Strings longer than RATIO_MAX_LEN code points are cut there.
 */
#ifndef DOPPEL_RATIO_H
#define DOPPEL_RATIO_H

#include <stddef.h>
#include <stdint.h>

#define RATIO_MAX_LEN    256
#define RATIO_MAX_TOKENS 32 /* words a token score looks at */

/* A borrowed string of code points. */
struct ratio_str {
    const uint32_t *cp;
    size_t n;
};

/* Returns the length of the longest common subsequence of a and b. */
size_t ratio_lcs(struct ratio_str a, struct ratio_str b);

int ratio_simple(struct ratio_str a, struct ratio_str b);
int ratio_partial(struct ratio_str a, struct ratio_str b);
int ratio_token_sort(struct ratio_str a, struct ratio_str b, int partial);
int ratio_token_set(struct ratio_str a, struct ratio_str b, int partial);

/* fuzzywuzzy's WRatio on already processed strings; 0 when either is empty. */
int ratio_wratio(struct ratio_str a, struct ratio_str b);

/* Match masks of a string of at most 64 code points, for the bit-parallel LCS. */
struct ratio_pm {
    uint64_t ascii[128];
    uint32_t other_cp[64];
    uint64_t other_mask[64];
    int others;
};

#define RATIO_SKETCH_WORDS 4

/* 32 bytes that stand for a string in ratio_wratio_sketch: its code points counted in
 * 32 buckets (a letter a-z each, space, digits, other ASCII, three for the rest), four
 * bits a count; the hashes and lengths of its words; its length. */
struct ratio_sketch {
    uint8_t counts[16]; /* bucket 2i in the low four bits of counts[i], 2i + 1 in the high */
    uint16_t whash[RATIO_SKETCH_WORDS];
    uint8_t wlen[RATIO_SKETCH_WORDS];
    uint8_t len;
    uint8_t nwords; /* 0: no sketch bound (empty, over 64 long, over RATIO_SKETCH_WORDS
                     * words, a repeated word, or a count over 15) */
    uint8_t pad[2];
};

/* A string prepared once to be scored against many others: its code points counted
 * (those above 127 folded into 128 buckets, and in the sketch's 32), its words (and their
 * hashes), its words sorted (joined) and as a sorted set, and the LCS tables of it and of
 * its sorted words. */
struct ratio_query {
    struct ratio_str s;
    uint16_t counts[256];
    uint8_t counts32[32];
    uint16_t whash[RATIO_MAX_TOKENS];
    size_t wlen;   /* length of its words joined by single spaces */
    int nwords;
    struct ratio_str w[RATIO_MAX_TOKENS];
    int loose;     /* 1 when no bound is attempted (too long, too many or repeated words) */
    int plain;     /* 1 when ratio_wratio_query just calls ratio_wratio (over 64 long) */
    struct ratio_str set[RATIO_MAX_TOKENS];
    int nset;
    uint32_t sorted_cp[RATIO_MAX_LEN];
    struct ratio_str sorted;
    struct ratio_pm pm, sorted_pm;
};

/* Prepares a (borrowed: it must outlive q). */
void ratio_query_init(struct ratio_query *q, struct ratio_str a);

/* ratio_wratio(q->s, b), the same number, with q's half of the work done once. */
int ratio_wratio_query(const struct ratio_query *q, struct ratio_str b);

/* An upper bound on ratio_wratio(q->s, b) from character counts, lengths, shared words
 * and one bit-parallel LCS of q and b (the plain ratio exactly, a cap on the partial
 * ones), several times cheaper than the score. A searcher that only wants scores of at
 * least t skips b when the bound is below t. */
int ratio_wratio_bound(const struct ratio_query *q, struct ratio_str b);

/* The sketch of s, for a string stored once and bounded often. */
void ratio_sketch_make(struct ratio_str s, struct ratio_sketch *out);

/* An upper bound on ratio_wratio(q->s, b) from b's sketch alone, at least
 * ratio_wratio_bound's: no text to decode, a few dozen operations. 100 when b's sketch
 * has no bound. */
int ratio_wratio_sketch(const struct ratio_query *q, const struct ratio_sketch *b);

#endif
