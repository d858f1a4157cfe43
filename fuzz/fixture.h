/*
 * fixture: what fuzz_hnsw and fuzz_near share: the rows of their small index, and the
 * shape of their input. A mutated file rarely keeps its
 * checksum, so an input that does not start with the file's magic is a list of patches
 * to a valid image: after one flags byte (bit 0: reseal the checksum afterwards, which
 * the caller does), (offset: 4 bytes, value: 1 byte) records, each setting the byte at
 * offset modulo the image's length. An input that starts with the magic is a whole file.
 */
#ifndef DOPPEL_FUZZ_FIXTURE_H
#define DOPPEL_FUZZ_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* rows x dim unit vectors into v from seed: uniform noise around a shared direction, so
 * a graph over them has real neighbourhoods. */
static inline void fuzz_unit_rows(float *v, size_t rows, size_t dim, uint64_t seed)
{
    for (size_t r = 0; r < rows; r++) {
        double n = 0;

        for (size_t i = 0; i < dim; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            v[r * dim + i] = (float)((double)(seed >> 40) / 16777216.0 - 0.5) + (i < 4 ? 1.0f : 0);
            n += (double)v[r * dim + i] * v[r * dim + i];
        }
        for (size_t i = 0; i < dim; i++)
            v[r * dim + i] = (float)(v[r * dim + i] / sqrt(n));
    }
}

/* The image to open, 64-byte aligned (free it): data itself when it starts with magic
 * (8 bytes), else golden (n bytes) patched by data. Sets *len; *reseal is 1 when the
 * caller should reseal the patched image's checksum. */
static inline unsigned char *fuzz_patch_image(const uint8_t *data, size_t size, const char *magic,
                                              const unsigned char *golden, size_t n, size_t *len,
                                              int *reseal)
{
    int raw = size >= 8 && memcmp(data, magic, 8) == 0;
    unsigned char *buf;

    *len = raw ? size : n;
    *reseal = !raw && size > 0 && (data[0] & 1);
    buf = aligned_alloc(64, (*len + 64) / 64 * 64);
    if (raw) {
        memcpy(buf, data, size);
        return buf;
    }
    memcpy(buf, golden, n);
    for (size_t i = 1; i + 5 <= size; i += 5) {
        uint32_t off;

        memcpy(&off, data + i, 4);
        buf[off % n] = data[i + 4];
    }
    return buf;
}

#endif
