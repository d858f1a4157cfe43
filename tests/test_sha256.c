/* Tests for util/sha256 against the FIPS 180-4 / NIST example vectors. */
#include "check.h"

#include "util/sha256.h"

#include <stdio.h>
#include <stdlib.h>

static void test_vectors(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"The quick brown fox jumps over the lazy dog",
         "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
    };
    char hex[SHA256_HEX_LEN + 1];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sha256_hex(cases[i].in, strlen(cases[i].in), hex);
        CHECK_STR(hex, cases[i].want);
    }
}

/* One million 'a's fed in uneven pieces: exercises block boundaries. */
static void test_million_a(void)
{
    static const size_t pieces[] = {1, 63, 64, 65, 127, 1000};
    char a[1000], hex[SHA256_HEX_LEN + 1];
    unsigned char d[32];
    struct sha256 s;
    size_t done = 0, k = 0;
    static const char digits[] = "0123456789abcdef";

    memset(a, 'a', sizeof a);
    sha256_init(&s);
    while (done < 1000000) {
        size_t n = pieces[k++ % 6];

        if (n > 1000000 - done)
            n = 1000000 - done;
        sha256_update(&s, a, n);
        done += n;
    }
    sha256_final(&s, d);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_file(void)
{
    char path[512], hex[SHA256_HEX_LEN + 1];
    FILE *f;

    snprintf(path, sizeof path, "%s/abc.txt", check_tmpdir());
    f = fopen(path, "wb");
    REQUIRE(f != NULL);
    fputs("abc", f);
    fclose(f);
    CHECK_INT(sha256_file_hex(path, hex), 0);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_INT(sha256_file_hex("/nonexistent/file", hex), -1);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"vectors", test_vectors},
        {"million_a", test_million_a},
        {"file", test_file},
    };

    return check_main("sha256", cases, sizeof cases / sizeof cases[0], argc, argv);
}
