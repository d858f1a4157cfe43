/*
 * exif: a marker walk up to the first scan, then one IFD0 lookup. No allocation, no
 * recursion; the walk advances by at least two bytes a step, so it ends on any input.
 */
#include "img/exif.h"

#include <stdint.h>
#include <string.h>

static unsigned rd16(const unsigned char *p, int big)
{
    return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t rd32(const unsigned char *p, int big)
{
    return big ? (uint32_t)rd16(p, 1) << 16 | rd16(p + 2, 1)
               : (uint32_t)rd16(p + 2, 0) << 16 | rd16(p, 0);
}

int exif_tiff_orientation(const unsigned char *t, size_t n)
{
    uint32_t ifd;
    unsigned count;
    int big;

    if (n < 8 || (memcmp(t, "II", 2) != 0 && memcmp(t, "MM", 2) != 0))
        return 1;
    big = t[0] == 'M';
    if (rd16(t + 2, big) != 42)
        return 1;
    ifd = rd32(t + 4, big);
    if (ifd > n - 2)
        return 1;
    count = rd16(t + ifd, big);
    for (unsigned k = 0; k < count; k++) {
        size_t at = (size_t)ifd + 2 + (size_t)k * 12;
        unsigned v;

        if (at + 12 > n)
            return 1;
        if (rd16(t + at, big) != 0x0112)
            continue;
        v = rd16(t + at + 2, big) == 4 ? (unsigned)rd32(t + at + 8, big) : rd16(t + at + 8, big);
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

/* Returns 1 for markers that carry no length field. */
static int standalone_marker(unsigned m)
{
    return m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7);
}

int exif_jpeg_orientation(const unsigned char *p, size_t n)
{
    size_t i = 2;

    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return 1;
    while (i + 4 <= n) {
        unsigned m = p[i + 1];
        size_t len;

        if (p[i] != 0xFF)
            return 1;
        if (m == 0xFF || standalone_marker(m)) {
            i += m == 0xFF ? 1 : 2;
            continue;
        }
        if (m == 0xDA || m == 0xD9)
            return 1;
        len = (size_t)p[i + 2] << 8 | p[i + 3];
        if (len < 2 || len > n - i - 2)
            return 1;
        if (m == 0xE1 && len >= 8 && memcmp(p + i + 4, "Exif\0\0", 6) == 0) {
            int o = exif_tiff_orientation(p + i + 10, len - 8);

            if (o != 1)
                return o;
        }
        i += 2 + len;
    }
    return 1;
}
