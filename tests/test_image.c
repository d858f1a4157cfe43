/* Tests for img/image: sniffing, the three decoders on generated and real files, EXIF
 * orientation, alpha, grey, palette and 16-bit PNG, CMYK JPEG, limits, truncation. */
#include "check.h"

#include "img/image.h"
#include "util/fs.h"

#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>
#include <webp/encode.h>

/* The test pattern: quadrants red, green / blue, white. */
static const unsigned char quad_rgb[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};

static void make_quadrants(struct image *im, int w, int h)
{
    img_alloc(im, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(im->px + ((size_t)y * w + x) * 3, quad_rgb[(y >= h / 2) * 2 + (x >= w / 2)], 3);
}

/* Returns the index of the quadrant colour closest to pixel (x, y). */
static int quad_at(const struct image *im, int x, int y)
{
    const unsigned char *p = im->px + ((size_t)y * im->w + x) * 3;
    int best = 0, bestd = 1 << 30;

    for (int q = 0; q < 4; q++) {
        int d = abs(p[0] - quad_rgb[q][0]) + abs(p[1] - quad_rgb[q][1]) + abs(p[2] - quad_rgb[q][2]);

        if (d < bestd) {
            bestd = d;
            best = q;
        }
    }
    return best;
}

/* Encodes im as a JPEG (quality 95) into a malloc'd buffer. */
static unsigned char *jpeg_encode(const struct image *im, int pf, size_t *n)
{
    tjhandle tj = tjInitCompress();
    unsigned char *jpg = NULL, *out;
    unsigned long len = 0;

    if (tj == NULL || tjCompress2(tj, im->px, im->w, 0, im->h, pf, &jpg, &len,
                                  pf == TJPF_CMYK ? TJSAMP_444 : TJSAMP_420, 95, 0) != 0) {
        *n = 0;
        return NULL;
    }
    out = malloc(len);
    memcpy(out, jpg, len);
    tjFree(jpg);
    tjDestroy(tj);
    *n = len;
    return out;
}

/* Inserts an EXIF APP1 segment with orientation o right after the SOI marker. */
static unsigned char *jpeg_with_orientation(const unsigned char *jpg, size_t n, int o, int big,
                                            size_t *outn)
{
    unsigned char seg[] = {0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,
                           /* TIFF header, IFD0 at 8 */
                           'I', 'I', 42, 0, 8, 0, 0, 0,
                           /* one entry: tag 0x0112, SHORT, count 1, value o */
                           1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (unsigned char)o, 0, 0, 0,
                           0, 0, 0, 0};
    unsigned char *out;

    if (big) {
        static const unsigned char mm[] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12,
                                           0, 3, 0, 0, 0, 1, 0, 0, 0, 0};

        memcpy(seg + 10, mm, sizeof mm);
        seg[10 + 20] = 0;
        seg[10 + 19] = (unsigned char)o;
        seg[10 + 18] = 0;
    }
    out = malloc(n + sizeof seg);
    memcpy(out, jpg, 2);
    memcpy(out + 2, seg, sizeof seg);
    memcpy(out + 2 + sizeof seg, jpg + 2, n - 2);
    *outn = n + sizeof seg;
    return out;
}

static void test_sniff(void)
{
    static const struct {
        const char *bytes;
        size_t n;
        enum img_format want;
    } cases[] = {
        {"\xFF\xD8\xFF\xE0", 4, IMG_FORMAT_JPEG},
        {"\x89PNG\r\n\x1a\n", 8, IMG_FORMAT_PNG},
        {"RIFF\0\0\0\0WEBPVP8 ", 16, IMG_FORMAT_WEBP},
        {"RIFF\0\0\0\0WAVEfmt ", 16, IMG_FORMAT_UNKNOWN},
        {"GIF89a", 6, IMG_FORMAT_UNKNOWN},
        {"BM", 2, IMG_FORMAT_UNKNOWN},
        {"\xFF\xD8", 2, IMG_FORMAT_UNKNOWN},
        {"", 0, IMG_FORMAT_UNKNOWN},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(img_sniff((const unsigned char *)cases[i].bytes, cases[i].n), cases[i].want);
}

static void test_jpeg_roundtrip(void)
{
    struct image src, out;
    struct err e;
    size_t n;
    unsigned char *jpg;

    make_quadrants(&src, 64, 32);
    jpg = jpeg_encode(&src, TJPF_RGB, &n);
    REQUIRE(jpg != NULL);
    CHECK_INT(img_decode(jpg, n, NULL, &out, &e), IMG_OK);
    CHECK_INT(out.w, 64);
    CHECK_INT(out.h, 32);
    CHECK_INT(quad_at(&out, 5, 5), 0);
    CHECK_INT(quad_at(&out, 58, 5), 1);
    CHECK_INT(quad_at(&out, 5, 26), 2);
    CHECK_INT(quad_at(&out, 58, 26), 3);
    img_release(&out);
    img_release(&src);
    free(jpg);
}

static void test_exif_orientations(void)
{
    /* Corners (TL, TR, BL, BR) after orientation, as Pillow's exif_transpose gives them. */
    static const char *const want[9] = {NULL,   "RGBW", "GRWB", "WBGR", "BWRG",
                                        "RBGW", "BRWG", "WGBR", "GWRB"};
    static const char names[] = "RGBW";
    struct image src;
    size_t n;
    unsigned char *jpg;

    make_quadrants(&src, 64, 32);
    jpg = jpeg_encode(&src, TJPF_RGB, &n);
    REQUIRE(jpg != NULL);
    for (int big = 0; big < 2; big++) {
        for (int o = 1; o <= 8; o++) {
            struct image out;
            struct img_info info;
            struct err e;
            size_t m;
            unsigned char *x = jpeg_with_orientation(jpg, n, o, big, &m);
            char got[5];

            CHECK_INT(img_probe(x, m, NULL, &info, &e), IMG_OK);
            CHECK_INT(info.orientation, o);
            CHECK_INT(info.display_w, o >= 5 ? 32 : 64);
            REQUIRE(img_decode(x, m, NULL, &out, &e) == IMG_OK);
            CHECK_INT(out.w, o >= 5 ? 32 : 64);
            got[0] = names[quad_at(&out, 2, 2)];
            got[1] = names[quad_at(&out, out.w - 3, 2)];
            got[2] = names[quad_at(&out, 2, out.h - 3)];
            got[3] = names[quad_at(&out, out.w - 3, out.h - 3)];
            got[4] = '\0';
            CHECK_STR(got, want[o]);
            img_release(&out);
            {
                struct img_opts keep = {.keep_orientation = 1};

                REQUIRE(img_decode(x, m, &keep, &out, &e) == IMG_OK);
                CHECK_INT(out.w, 64);
                img_release(&out);
            }
            free(x);
        }
    }
    img_release(&src);
    free(jpg);
}

static void test_jpeg_cmyk(void)
{
    struct image src, out;
    struct err e;
    size_t n;
    unsigned char *jpg;

    /* 4-byte CMYK pixels in Adobe's inverted convention: red is C=255 M=0 Y=0 K=255. */
    src.w = 16;
    src.h = 16;
    src.px = malloc(16 * 16 * 4);
    for (int i = 0; i < 256; i++)
        memcpy(src.px + 4 * i, "\xff\x00\x00\xff", 4);
    jpg = jpeg_encode(&src, TJPF_CMYK, &n);
    REQUIRE(jpg != NULL);
    CHECK_INT(img_decode(jpg, n, NULL, &out, &e), IMG_OK);
    CHECK(out.px != NULL && out.px[0] > 240 && out.px[1] < 15 && out.px[2] < 15);
    img_release(&out);
    img_release(&src);
    free(jpg);
}

/* Writes rows of the given libpng simplified format to memory; returns a malloc'd PNG. */
static unsigned char *png_encode(const void *px, int w, int h, png_uint_32 format,
                                 const void *colormap, int entries, size_t *n)
{
    png_image im;
    png_alloc_size_t size = 0;
    unsigned char *out;

    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = format;
    im.colormap_entries = (png_uint_32)entries;
    if (!png_image_write_to_memory(&im, NULL, &size, 0, px, 0, colormap))
        return NULL;
    out = malloc(size);
    if (!png_image_write_to_memory(&im, out, &size, 0, px, 0, colormap)) {
        free(out);
        return NULL;
    }
    *n = size;
    return out;
}

static void test_png_variants(void)
{
    static const unsigned char grey[4] = {0, 85, 170, 255};
    static const unsigned char rgba[16] = {255, 0, 0, 255, 255, 0, 0, 128, 0, 0, 0, 0, 10, 20, 30, 255};
    static const unsigned char cmap[6] = {0, 0, 255, 255, 255, 0}, idx[4] = {0, 1, 1, 0};
    static const struct {
        const char *name;
        png_uint_32 format;
        const void *px, *cmap;
        int entries;
        unsigned char want[4][3];
    } cases[] = {
        {"grey", PNG_FORMAT_GRAY, grey, NULL, 0,
         {{0, 0, 0}, {85, 85, 85}, {170, 170, 170}, {255, 255, 255}}},
        {"alpha", PNG_FORMAT_RGBA, rgba, NULL, 0,
         {{255, 0, 0}, {255, 127, 127}, {255, 255, 255}, {10, 20, 30}}},
        {"palette", PNG_FORMAT_RGB_COLORMAP, idx, cmap, 2,
         {{0, 0, 255}, {255, 255, 0}, {255, 255, 0}, {0, 0, 255}}},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct image out;
        struct err e;
        size_t n = 0;
        unsigned char *png =
            png_encode(cases[i].px, 2, 2, cases[i].format, cases[i].cmap, cases[i].entries, &n);

        REQUIRE(png != NULL);
        CHECK_INT(img_decode(png, n, NULL, &out, &e), IMG_OK);
        REQUIRE(out.px != NULL);
        for (int p = 0; p < 4; p++) {
            for (int c = 0; c < 3; c++) {
                if (abs(out.px[p * 3 + c] - cases[i].want[p][c]) > 1)
                    check_fail(__FILE__, __LINE__, "%s: pixel %d channel %d: %d, want %d",
                               cases[i].name, p, c, out.px[p * 3 + c], cases[i].want[p][c]);
            }
        }
        img_release(&out);
        free(png);
    }
}

/* Appends a PNG chunk with its CRC (computed here: the PNG CRC-32). */
static size_t png_chunk(unsigned char *at, const char *type, const unsigned char *data,
                        size_t n)
{
    unsigned long crc = 0xffffffffUL;

    at[0] = (unsigned char)(n >> 24), at[1] = (unsigned char)(n >> 16);
    at[2] = (unsigned char)(n >> 8), at[3] = (unsigned char)n;
    memcpy(at + 4, type, 4);
    if (n > 0)
        memcpy(at + 8, data, n);
    for (size_t i = 4; i < 8 + n; i++) {
        crc ^= at[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0xedb88320UL : crc >> 1;
    }
    crc ^= 0xffffffffUL;
    at[8 + n] = (unsigned char)(crc >> 24), at[9 + n] = (unsigned char)(crc >> 16);
    at[10 + n] = (unsigned char)(crc >> 8), at[11 + n] = (unsigned char)crc;
    return 12 + n;
}

/* A 16-bit RGB PNG without gamma chunks, every sample 0x8080, built by hand (zlib stored
 * block) so the test does not depend on an encoder's choices. */
static void test_png_16bit(void)
{
    unsigned char file[256], ihdr[13] = {0, 0, 0, 2, 0, 0, 0, 1, 16, 2, 0, 0, 0};
    unsigned char idat[64], raw[13];
    unsigned a = 1, b = 0;
    size_t n = 0;
    struct image out;
    struct err e;

    raw[0] = 0; /* filter: none */
    memset(raw + 1, 0x80, 12);
    for (int i = 0; i < 13; i++)
        a = (a + raw[i]) % 65521, b = (b + a) % 65521;
    idat[0] = 0x78, idat[1] = 0x01, idat[2] = 1, idat[3] = 13, idat[4] = 0;
    idat[5] = (unsigned char)~13, idat[6] = 0xff;
    memcpy(idat + 7, raw, 13);
    idat[20] = (unsigned char)(b >> 8), idat[21] = (unsigned char)b;
    idat[22] = (unsigned char)(a >> 8), idat[23] = (unsigned char)a;
    memcpy(file, "\x89PNG\r\n\x1a\n", 8);
    n = 8;
    n += png_chunk(file + n, "IHDR", ihdr, 13);
    n += png_chunk(file + n, "IDAT", idat, 24);
    n += png_chunk(file + n, "IEND", NULL, 0);
    REQUIRE(img_decode(file, n, NULL, &out, &e) == IMG_OK);
    CHECK_INT(out.w, 2);
    for (int i = 0; i < 6; i++)
        CHECK_INT(out.px[i], 128);
    img_release(&out);
}

static void test_webp(void)
{
    struct image src, out;
    struct err e;
    unsigned char *webp = NULL, rgba[4 * 4 * 4];
    size_t n;

    make_quadrants(&src, 32, 16);
    n = WebPEncodeLosslessRGB(src.px, 32, 16, 32 * 3, &webp);
    REQUIRE(n > 0);
    CHECK_INT(img_decode(webp, n, NULL, &out, &e), IMG_OK);
    CHECK(out.w == 32 && out.h == 16 && memcmp(out.px, src.px, 32 * 16 * 3) == 0);
    img_release(&out);
    WebPFree(webp);
    /* Alpha: transparent pixels come out white. */
    memset(rgba, 0, sizeof rgba);
    n = WebPEncodeLosslessRGBA(rgba, 4, 4, 16, &webp);
    REQUIRE(n > 0);
    CHECK_INT(img_decode(webp, n, NULL, &out, &e), IMG_OK);
    CHECK(out.px != NULL && out.px[0] == 255 && out.px[47] == 255);
    img_release(&out);
    WebPFree(webp);
    /* Lossy, and decoder-side scaling. */
    img_release(&src);
    make_quadrants(&src, 400, 300);
    n = WebPEncodeRGB(src.px, 400, 300, 400 * 3, 90, &webp);
    REQUIRE(n > 0);
    {
        struct img_opts o = {.min_side = 100};

        CHECK_INT(img_decode(webp, n, &o, &out, &e), IMG_OK);
        CHECK_INT(out.h, 100);
        CHECK_INT(out.w, 133);
        CHECK_INT(quad_at(&out, 120, 90), 3);
        img_release(&out);
    }
    WebPFree(webp);
    img_release(&src);
}

/* Every prefix of a valid file must fail cleanly, never decode as a whole image; the
 * last `complete` bytes carry no pixels (PNG's IEND chunk) and may be cut. */
static void check_truncations(const char *what, const unsigned char *p, size_t n,
                              size_t complete)
{
    size_t step = n > 600 ? n / 300 : 1;

    for (size_t cut = 0; cut < n - complete; cut += step) {
        struct image out;
        struct err e;
        int rc = img_decode(p, cut, NULL, &out, &e);

        if (rc == IMG_OK)
            check_fail(__FILE__, __LINE__, "%s cut at %zu of %zu decoded", what, cut, n);
        img_release(&out);
    }
}

static void test_truncated(void)
{
    struct image src;
    unsigned char *jpg, *png, *webp = NULL;
    size_t nj, np, nw;

    make_quadrants(&src, 96, 64);
    jpg = jpeg_encode(&src, TJPF_RGB, &nj);
    png = png_encode(src.px, 96, 64, PNG_FORMAT_RGB, NULL, 0, &np);
    nw = WebPEncodeRGB(src.px, 96, 64, 96 * 3, 80, &webp);
    REQUIRE(jpg != NULL && png != NULL && nw > 0);
    check_truncations("jpeg", jpg, nj, 0);
    check_truncations("png", png, np, 12);
    check_truncations("webp", webp, nw, 0);
    free(jpg);
    free(png);
    WebPFree(webp);
    img_release(&src);
}

static void test_pixel_bombs(void)
{
    /* A real JPEG whose SOF0 is patched to 65000 x 65000, a PNG whose IHDR claims
     * 100000 x 100000, a WebP VP8L header claiming 16384 x 16384: refused from the header,
     * before any pixel buffer exists. */
    unsigned char png[128], ihdr[13] = {0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 2, 0, 0, 0};
    static const unsigned char idat[] = {0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 1};
    static const unsigned char webp[] = {'R', 'I', 'F', 'F', 26, 0, 0, 0, 'W', 'E', 'B', 'P',
                                         'V', 'P', '8', 'L', 13, 0, 0, 0, 0x2f,
                                         0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    struct image src, out;
    struct img_info info;
    struct err e;
    size_t n = 8, nj, i;
    unsigned char *jpg;

    make_quadrants(&src, 16, 16);
    jpg = jpeg_encode(&src, TJPF_RGB, &nj);
    REQUIRE(jpg != NULL);
    for (i = 2; i + 9 < nj && !(jpg[i] == 0xFF && jpg[i + 1] == 0xC0); i++)
        ;
    REQUIRE(i + 9 < nj);
    jpg[i + 5] = 0xFD, jpg[i + 6] = 0xE8, jpg[i + 7] = 0xFD, jpg[i + 8] = 0xE8;
    CHECK_INT(img_probe(jpg, nj, NULL, &info, &e), IMG_ERR_TOO_MANY_PX);
    CHECK_INT(img_decode(jpg, nj, NULL, &out, &e), IMG_ERR_TOO_MANY_PX);
    CHECK(strstr(e.msg, "megapixels") != NULL);
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    n += png_chunk(png + n, "IHDR", ihdr, 13);
    n += png_chunk(png + n, "IDAT", idat, sizeof idat);
    n += png_chunk(png + n, "IEND", NULL, 0);
    CHECK_INT(img_decode(png, n, NULL, &out, &e), IMG_ERR_TOO_MANY_PX);
    CHECK_INT(img_decode(webp, sizeof webp, NULL, &out, &e), IMG_ERR_TOO_MANY_PX);
    CHECK(out.px == NULL);
    free(jpg);
    img_release(&src);
}

static void test_limits_and_junk(void)
{
    static const struct {
        const char *bytes;
        size_t n;
        int want;
    } cases[] = {
        {"", 0, IMG_ERR_EMPTY},
        {"GIF89a\x01\x00\x01\x00", 10, IMG_ERR_FORMAT},
        {"<html>not an image</html>", 25, IMG_ERR_FORMAT},
        {"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11, IMG_ERR_TRUNCATED},
        {"\xFF\xD8\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 10, IMG_ERR_TRUNCATED},
        {"\x89PNG\r\n\x1a\nXXXXXXXXXXXXXXXXXXXXXXXXX", 33, IMG_ERR_CORRUPT},
        {"RIFF\x04\x00\x00\x00WEBPVP8 ", 16, IMG_ERR_TRUNCATED},
    };
    struct img_opts small = {.max_bytes = 4};
    struct image out;
    struct err e;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = img_decode((const unsigned char *)cases[i].bytes, cases[i].n, NULL, &out, &e);

        if (rc != cases[i].want && !(cases[i].want != IMG_OK && rc != IMG_OK &&
                                     cases[i].want >= IMG_ERR_TRUNCATED &&
                                     rc >= IMG_ERR_FORMAT))
            check_fail(__FILE__, __LINE__, "case %zu: %s (%s), want %s", i, img_rc_name(rc),
                       e.msg, img_rc_name(cases[i].want));
        CHECK(rc == IMG_OK || out.px == NULL);
    }
    CHECK_INT(img_decode((const unsigned char *)"\xFF\xD8\xFF\xE0\x00", 5, &small, &out, &e),
              IMG_ERR_TOO_BIG);
    CHECK_INT(img_load_file("/nonexistent.jpg", NULL, &out, &e), IMG_ERR_IO);
}

static void test_sample_photos(void)
{
    static const struct {
        const char *file;
        int w, h;
    } cases[] = {
        {"samples/face-api/sample1.jpg", 1920, 1280}, {"samples/face-api/sample2.jpg", 1920, 1367},
        {"samples/face-api/sample6.jpg", 1920, 1537}, {"samples/human/samples.jpg", 1280, 1158},
    };
    const char *models = check_models();

    if (models == NULL)
        SKIP("no models folder (scripts/setup.sh fetches the sample photos)");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024];
        struct image out;
        struct err e;
        struct img_opts o224 = {.min_side = 224}, o150 = {.min_side = 150};

        snprintf(path, sizeof path, "%s/%s", models, cases[i].file);
        CHECK_INT(img_load_file(path, NULL, &out, &e), IMG_OK);
        CHECK(out.w == cases[i].w && out.h == cases[i].h);
        img_release(&out);
        /* DCT scaling keeps the shorter side at least min_side, and less than twice it. */
        CHECK_INT(img_load_file(path, &o224, &out, &e), IMG_OK);
        CHECK(out.h >= 224 && out.h < 448 && out.w > out.h);
        img_release(&out);
        CHECK_INT(img_load_file(path, &o150, &out, &e), IMG_OK);
        CHECK(out.h >= 150 && out.h < 300);
        img_release(&out);
    }
}

/* Decodes every photo under dir/<person>/; returns files seen, counting failures. */
static int decode_tree(const char *dir, int side, int *bad)
{
    DIR *d = opendir(dir);
    struct dirent *p;
    int seen = 0;

    if (d == NULL)
        return 0;
    while ((p = readdir(d)) != NULL) {
        char sub[1024];
        DIR *d2;
        struct dirent *f;

        if (p->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, p->d_name);
        d2 = opendir(sub);
        while (d2 != NULL && (f = readdir(d2)) != NULL) {
            char path[2048];
            struct image im;
            struct err e;

            if (f->d_name[0] == '.' || strstr(f->d_name, ".json") != NULL)
                continue;
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            seen++;
            if (img_load_file(path, NULL, &im, &e) != IMG_OK || im.w != side || im.h != side) {
                check_fail(__FILE__, __LINE__, "%s: %s (%d x %d)", path, e.msg, im.w, im.h);
                (*bad)++;
            }
            img_release(&im);
        }
        if (d2 != NULL)
            closedir(d2);
    }
    closedir(d);
    return seen;
}

static void test_shared_faces(void)
{
    const char *data = check_testdata();
    char dir[1024];
    int bad = 0, glint, pins;

    if (data == NULL)
        SKIP("DOPPEL_TESTDATA not set");
    snprintf(dir, sizeof dir, "%s/faces/glint", data);
    glint = decode_tree(dir, 112, &bad);
    snprintf(dir, sizeof dir, "%s/faces/pins", data);
    pins = decode_tree(dir, 160, &bad);
    CHECK_INT(glint, 712);
    CHECK_INT(pins, 315);
    CHECK_INT(bad, 0);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"sniff", test_sniff},
        {"jpeg_roundtrip", test_jpeg_roundtrip},
        {"exif_orientations", test_exif_orientations},
        {"jpeg_cmyk", test_jpeg_cmyk},
        {"png_variants", test_png_variants},
        {"png_16bit", test_png_16bit},
        {"webp", test_webp},
        {"truncated", test_truncated},
        {"pixel_bombs", test_pixel_bombs},
        {"limits_and_junk", test_limits_and_junk},
        {"sample_photos", test_sample_photos},
        {"shared_faces", test_shared_faces},
    };

    return check_main("image", cases, sizeof cases / sizeof cases[0], argc, argv);
}
