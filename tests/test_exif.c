/* Tests for img/exif: well-formed and hostile APP1 segments. */
#include "check.h"

#include "img/exif.h"

/* Builds SOI + APP1(Exif + tiff) + SOS into out; returns the length. */
static size_t jpeg_with_tiff(unsigned char *out, const unsigned char *tiff, size_t n,
                             int seglen_delta)
{
    size_t len = n + 8 + (size_t)seglen_delta;

    memcpy(out, "\xFF\xD8\xFF\xE1", 4);
    out[4] = (unsigned char)(len >> 8);
    out[5] = (unsigned char)len;
    memcpy(out + 6, "Exif\0\0", 6);
    memcpy(out + 12, tiff, n);
    memcpy(out + 12 + n, "\xFF\xDA\x00\x02", 4);
    return 16 + n;
}

static void test_tiff_cases(void)
{
    static const struct {
        const char *name;
        unsigned char tiff[32];
        size_t n;
        int want;
    } cases[] = {
        {"II short 6", {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 1, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0},
         22, 6},
        {"MM short 8", {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 1, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0},
         22, 8},
        {"II long 3", {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 1, 4, 0, 1, 0, 0, 0, 3, 0, 0, 0},
         22, 3},
        {"value 9", {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 1, 3, 0, 1, 0, 0, 0, 9, 0, 0, 0},
         22, 1},
        {"other tag", {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x10, 1, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0},
         22, 1},
        {"bad magic", {'I', 'I', 43, 0, 8, 0, 0, 0, 1, 0, 0x12, 1, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0},
         22, 1},
        {"ifd past end", {'I', 'I', 42, 0, 0xff, 0xff, 0, 0, 1, 0, 0x12, 1, 3, 0, 1, 0, 0, 0, 6},
         19, 1},
        {"count overflows", {'I', 'I', 42, 0, 8, 0, 0, 0, 0xff, 0xff, 0x10, 1, 3, 0, 1, 0, 0, 0},
         18, 1},
        {"entry cut", {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 1, 3, 0, 1, 0}, 16, 1},
        {"too short", {'I', 'I', 42}, 3, 1},
        {"byte order", {'X', 'X', 42, 0, 8, 0, 0, 0}, 8, 1},
        {"ifd offset max", {'M', 'M', 0, 42, 0xff, 0xff, 0xff, 0xff}, 8, 1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char jpg[64];
        size_t n = jpeg_with_tiff(jpg, cases[i].tiff, cases[i].n, 0);

        if (exif_tiff_orientation(cases[i].tiff, cases[i].n) != cases[i].want)
            check_fail(__FILE__, __LINE__, "tiff %s", cases[i].name);
        if (exif_jpeg_orientation(jpg, n) != cases[i].want)
            check_fail(__FILE__, __LINE__, "jpeg %s", cases[i].name);
    }
}

static void test_segments(void)
{
    static const unsigned char tiff[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12,
                                         1,   3,   0,  1, 0, 0, 0, 6, 0, 0, 0};
    unsigned char jpg[128], two[160];
    size_t n;

    /* Segment length running past the end: ignored, never read out of bounds. */
    n = jpeg_with_tiff(jpg, tiff, sizeof tiff, 500);
    CHECK_INT(exif_jpeg_orientation(jpg, n), 1);
    /* Length below 2: malformed. */
    n = jpeg_with_tiff(jpg, tiff, sizeof tiff, 0);
    jpg[4] = 0, jpg[5] = 1;
    CHECK_INT(exif_jpeg_orientation(jpg, n), 1);
    /* An XMP APP1 first, then the Exif one; fill bytes before a marker. */
    n = jpeg_with_tiff(jpg, tiff, sizeof tiff, 0);
    memcpy(two, "\xFF\xD8\xFF\xE1\x00\x08http", 10);
    memcpy(two + 10, "\xFF\xFF", 2);
    memcpy(two + 12, jpg + 2, n - 2);
    CHECK_INT(exif_jpeg_orientation(two, n + 10), 6);
    /* Not a JPEG; empty; Exif after the scan starts is not looked at. */
    CHECK_INT(exif_jpeg_orientation((const unsigned char *)"\x89PNG", 4), 1);
    CHECK_INT(exif_jpeg_orientation(jpg, 0), 1);
    memcpy(two, "\xFF\xD8\xFF\xDA\x00\x02", 6);
    memcpy(two + 6, jpg + 2, n - 2);
    CHECK_INT(exif_jpeg_orientation(two, n + 4), 1);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"tiff_cases", test_tiff_cases},
        {"segments", test_segments},
    };

    return check_main("exif", cases, sizeof cases / sizeof cases[0], argc, argv);
}
