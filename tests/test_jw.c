/* Tests for util/jw: the bytes jansson's json_dumps writes for the same values (fixed
 * cases and random documents), invalid UTF-8, the buffer's cap, nesting errors. */
#include "check.h"

#include "util/jw.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define FLAGS (JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9))

/* jansson's text for o (taking its reference) and a newline, as a jw document ends. */
static char *jansson_text(json_t *o)
{
    char *s = json_dumps(o, FLAGS), *t = malloc(strlen(s) + 2);

    strcpy(t, s);
    strcat(t, "\n");
    free(s);
    json_decref(o);
    return t;
}

static void test_fixed(void)
{
    struct buf b;
    struct jw w;
    char *want;

    buf_init(&b, 0);
    jw_init(&w, &b);
    jw_open(&w, NULL, '{');
    jw_str(&w, "query", "a \"q\" \\ \t\n\x01 caf\xc3\xa9 \xf0\x9f\x98\x80/\x7f");
    jw_open(&w, "results", '[');
    jw_open(&w, NULL, '{');
    jw_int(&w, "id", 172176);
    jw_real(&w, "score", 0.700879335);
    jw_real(&w, "rank_pct", 100.0);
    jw_null(&w, "photo");
    jw_bool(&w, "same", 1);
    jw_close(&w);
    jw_open(&w, NULL, '[');
    jw_close(&w);
    jw_open(&w, NULL, '{');
    jw_close(&w);
    jw_close(&w);
    jw_close(&w);
    CHECK_INT(jw_finish(&w), BUF_OK);
    want = jansson_text(json_pack("{s:s, s:[{s:I, s:f, s:f, s:n, s:b}, [], {}]}", "query",
                                  "a \"q\" \\ \t\n\x01 caf\xc3\xa9 \xf0\x9f\x98\x80/\x7f",
                                  "results", "id", (json_int_t)172176, "score", 0.700879335,
                                  "rank_pct", 100.0, "photo", "same", 1));
    CHECK_STR(buf_str(&b), want);
    free(want);
    buf_release(&b);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A random valid UTF-8 string: ASCII (controls and quotes too) and 2, 3 and 4 byte
 * characters. */
static void random_string(char *s, size_t cap)
{
    size_t n = 0, len = next() % 12;

    for (size_t i = 0; i < len && n + 5 < cap; i++) {
        uint32_t c;
        utf8proc_ssize_t k;

        switch (next() % 4) {
        case 0: c = (uint32_t)(next() % 0x80); break;
        case 1: c = 0x80 + (uint32_t)(next() % 0x780); break;
        case 2: c = 0x800 + (uint32_t)(next() % 0xF800); break;
        default: c = 0x10000 + (uint32_t)(next() % 0x100000); break;
        }
        if (c == 0 || (c >= 0xD800 && c <= 0xDFFF))
            c = 'x';
        k = utf8proc_encode_char((utf8proc_int32_t)c, (utf8proc_uint8_t *)s + n);
        n += (size_t)k;
    }
    s[n] = '\0';
}

static double random_real(void)
{
    static const double some[] = {0.0, -0.0, 1.0, 100.0, 0.5, 1e20, 1e-5, 1.5e300, 12345678.9,
                                  123456789012.0, -2.5e-10, 1e21, 99.9997534};
    double v;
    uint64_t bits;

    if (next() % 2)
        return some[next() % (sizeof some / sizeof some[0])];
    do {
        bits = next();
        memcpy(&v, &bits, sizeof v);
    } while (!isfinite(v));
    return v;
}

/* A random value written to w and built in jansson, depth levels at most. */
static json_t *random_value(struct jw *w, const char *key, int depth)
{
    char s[64];
    int kind = (int)(next() % (depth > 0 ? 8 : 6));
    json_t *o;

    switch (kind) {
    case 0:
        random_string(s, sizeof s);
        jw_str(w, key, s);
        return json_string(s);
    case 1: {
        long long v = next() % 3 == 0 ? LLONG_MIN + (long long)(next() % 2) : (long long)next();

        jw_int(w, key, v);
        return json_integer(v);
    }
    case 2: {
        double v = random_real();

        jw_real(w, key, v);
        return json_real(v);
    }
    case 3:
        jw_null(w, key);
        return json_null();
    case 4:
        jw_bool(w, key, kind & 1);
        return json_boolean(kind & 1);
    case 5:
        jw_bool(w, key, 1);
        return json_true();
    case 6:
        o = json_array();
        jw_open(w, key, '[');
        for (int i = (int)(next() % 4); i > 0; i--)
            json_array_append_new(o, random_value(w, NULL, depth - 1));
        jw_close(w);
        return o;
    default:
        o = json_object();
        jw_open(w, key, '{');
        for (int i = (int)(next() % 4); i > 0; i--) {
            char k[64];

            do /* jansson keeps one member a key: the keys must differ */
                random_string(k, sizeof k);
            while (json_object_get(o, k) != NULL);
            json_object_set_new(o, k, random_value(w, k, depth - 1));
        }
        jw_close(w);
        return o;
    }
}

static void test_random(void)
{
    struct buf b;
    int same = 0;

    buf_init(&b, 0);
    for (int i = 0; i < 3000; i++) {
        struct jw w;
        json_t *o = json_array();
        char *want;

        jw_init(&w, &b);
        jw_open(&w, NULL, '[');
        for (int j = (int)(next() % 3); j > 0; j--)
            json_array_append_new(o, random_value(&w, NULL, 4));
        jw_close(&w);
        CHECK_INT(jw_finish(&w), BUF_OK);
        want = jansson_text(o);
        if (strcmp(want, buf_str(&b)) == 0)
            same++;
        else if (same == i) /* the first difference only */
            CHECK_STR(buf_str(&b), want);
        free(want);
        buf_reset(&b);
    }
    CHECK_INT(same, 3000);
    buf_release(&b);
}

static void test_invalid_utf8(void)
{
    struct buf b;
    struct jw w;

    buf_init(&b, 0);
    jw_init(&w, &b);
    jw_open(&w, NULL, '[');
    jw_str(&w, NULL, "a\xff" "b\xc3" "c\xed\xa0\x80" "d\xe2\x82");
    jw_str(&w, NULL, NULL);
    jw_close(&w);
    CHECK_INT(jw_finish(&w), BUF_OK);
    CHECK_STR(buf_str(&b), "[\n \"a\\uFFFDb\\uFFFDc\\uFFFD\\uFFFD\\uFFFDd\\uFFFD\\uFFFD\",\n null\n]\n");
    buf_release(&b);
}

static void test_errors(void)
{
    struct buf b;
    struct jw w;

    buf_init(&b, 16);
    jw_init(&w, &b);
    jw_open(&w, NULL, '{');
    jw_str(&w, "name", "longer than the buffer holds");
    jw_close(&w);
    CHECK_INT(jw_finish(&w), BUF_ERR_FULL);
    buf_release(&b);

    buf_init(&b, 0);
    jw_init(&w, &b);
    for (int i = 0; i <= JW_MAX_DEPTH; i++)
        jw_open(&w, NULL, '[');
    CHECK_INT(jw_finish(&w), BUF_ERR_FULL);
    jw_init(&w, &b);
    jw_close(&w);
    CHECK_INT(jw_finish(&w), BUF_ERR_FULL);
    jw_init(&w, &b);
    jw_open(&w, NULL, '{');
    CHECK_INT(jw_finish(&w), BUF_ERR_FULL); /* left open */
    buf_release(&b);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"fixed", test_fixed},
        {"random", test_random},
        {"invalid_utf8", test_invalid_utf8},
        {"errors", test_errors},
    };

    return check_main("jw", cases, sizeof cases / sizeof cases[0], argc, argv);
}
