/*
 * patch: the input shape fuzz_hnsw and fuzz_near share. A mutated file rarely keeps its
 * checksum, so an input that does not start with the file's magic is a list of patches
 * to a valid image: after one flags byte (bit 0: reseal the checksum afterwards, which
 * the caller does), (offset: 4 bytes, value: 1 byte) records, each setting the byte at
 * offset modulo the image's length. An input that starts with the magic is a whole file.
 */
#ifndef DOPPEL_FUZZ_PATCH_H
#define DOPPEL_FUZZ_PATCH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
