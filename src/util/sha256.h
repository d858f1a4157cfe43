/*
 * sha256: FIPS 180-4 SHA-256, for photo de-duplication and model file checks.
 */
#ifndef DOPPEL_SHA256_H
#define DOPPEL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 64

struct sha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
};

/* Starts a new digest. */
void sha256_init(struct sha256 *s);

/* Feeds n bytes of p. */
void sha256_update(struct sha256 *s, const void *p, size_t n);

/* Finishes the digest into out (32 bytes); s must be re-initialised to be reused. */
void sha256_final(struct sha256 *s, unsigned char out[32]);

/* One-shot digest of p as 64 lower-case hex digits plus NUL into hex. */
void sha256_hex(const void *p, size_t n, char hex[SHA256_HEX_LEN + 1]);

/* Digest of a whole file as hex. Returns 0, or -1 when the file cannot be read. */
int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN + 1]);

#endif
