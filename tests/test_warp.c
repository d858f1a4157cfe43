/* Tests for img/warp: the least-squares similarity fit, inversion, and the warp itself. */
#include "check.h"

#include "img/warp.h"

#include <stdlib.h>

static void test_similarity_exact(void)
{
    static const struct {
        double angle, scale, tx, ty;
    } cases[] = {
        {0, 1, 0, 0}, {0.5236, 1.7, 12.5, -3}, {-1.2, 0.31, 100, 200}, {3.0, 2.5, -40, 7},
    };
    static const float src[10] = {30, 40, 70, 41, 50, 60, 35, 80, 66, 79};

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double c = cos(cases[i].angle) * cases[i].scale, s = sin(cases[i].angle) * cases[i].scale;
        float dst[10], m[6];

        for (int k = 0; k < 5; k++) {
            dst[2 * k] = (float)(c * src[2 * k] - s * src[2 * k + 1] + cases[i].tx);
            dst[2 * k + 1] = (float)(s * src[2 * k] + c * src[2 * k + 1] + cases[i].ty);
        }
        REQUIRE(warp_similarity(src, dst, 5, m) == 0);
        CHECK_NEAR(m[0], c, 1e-4);
        CHECK_NEAR(m[1], -s, 1e-4);
        CHECK_NEAR(m[3], s, 1e-4);
        CHECK_NEAR(m[4], c, 1e-4);
        CHECK_NEAR(m[2], cases[i].tx, 1e-2);
        CHECK_NEAR(m[5], cases[i].ty, 1e-2);
    }
}

/* With noisy targets the fit is the least-squares one: nudging any parameter makes the
 * squared error grow. */
static void test_similarity_least_squares(void)
{
    static const float src[8] = {0, 0, 10, 0, 10, 10, 0, 10};
    static const float dst[8] = {1, 2, 21.5f, 1.5f, 22, 22.5f, 0.5f, 21};
    float m[6], base = 0;

    REQUIRE(warp_similarity(src, dst, 4, m) == 0);
    for (int k = 0; k < 4; k++) {
        float x, y;

        warp_apply(m, src[2 * k], src[2 * k + 1], &x, &y);
        base += (x - dst[2 * k]) * (x - dst[2 * k]) + (y - dst[2 * k + 1]) * (y - dst[2 * k + 1]);
    }
    for (int p = 0; p < 6; p++) {
        for (int sign = -1; sign <= 1; sign += 2) {
            float q[6], err = 0;

            memcpy(q, m, sizeof q);
            q[p] += sign * 0.01f;
            /* Keep it a similarity: q[0] == q[4], q[1] == -q[3]. */
            if (p == 0)
                q[4] = q[0];
            if (p == 4)
                q[0] = q[4];
            if (p == 1)
                q[3] = -q[1];
            if (p == 3)
                q[1] = -q[3];
            for (int k = 0; k < 4; k++) {
                float x, y;

                warp_apply(q, src[2 * k], src[2 * k + 1], &x, &y);
                err += (x - dst[2 * k]) * (x - dst[2 * k]) +
                       (y - dst[2 * k + 1]) * (y - dst[2 * k + 1]);
            }
            CHECK(err >= base - 1e-4f);
        }
    }
}

static void test_degenerate(void)
{
    static const float same[6] = {5, 5, 5, 5, 5, 5}, dst[6] = {0, 0, 1, 0, 0, 1};
    static const float singular[6] = {1, 2, 0, 2, 4, 0};
    float m[6], inv[6];

    CHECK_INT(warp_similarity(same, dst, 3, m), -1);
    CHECK_INT(warp_similarity(same, dst, 0, m), -1);
    CHECK_INT(warp_invert(singular, inv), -1);
}

static void test_invert(void)
{
    static const float m[6] = {1.2f, -0.4f, 13, 0.4f, 1.2f, -7};
    float inv[6], x, y, bx, by;

    REQUIRE(warp_invert(m, inv) == 0);
    warp_apply(m, 3.5f, -2, &x, &y);
    warp_apply(inv, x, y, &bx, &by);
    CHECK_NEAR(bx, 3.5, 1e-4);
    CHECK_NEAR(by, -2, 1e-4);
}

static void test_warp_affine(void)
{
    static const float identity[6] = {1, 0, 0, 0, 1, 0}, shift[6] = {1, 0, 2, 0, 1, 1};
    static const float far[6] = {1, 0, 1e9f, 0, 1, 0};
    static const unsigned char fill[3] = {9, 8, 7};
    struct image src, out;

    img_alloc(&src, 8, 6);
    for (int i = 0; i < 8 * 6 * 3; i++)
        src.px[i] = (unsigned char)(i * 5);
    warp_affine(&src, identity, 8, 6, fill, &out);
    CHECK(memcmp(out.px, src.px, 8 * 6 * 3) == 0);
    img_release(&out);
    /* out(x, y) = src(x + 2, y + 1) */
    warp_affine(&src, shift, 4, 3, fill, &out);
    CHECK(memcmp(out.px, src.px + (1 * 8 + 2) * 3, 3) == 0);
    CHECK(memcmp(out.px + (2 * 4 + 3) * 3, src.px + (3 * 8 + 5) * 3, 3) == 0);
    img_release(&out);
    warp_affine(&src, far, 2, 2, fill, &out);
    CHECK(out.px[0] == 9 && out.px[1] == 8 && out.px[11] == 7);
    img_release(&out);
    img_release(&src);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"similarity_exact", test_similarity_exact},
        {"similarity_least_squares", test_similarity_least_squares},
        {"degenerate", test_degenerate},
        {"invert", test_invert},
        {"warp_affine", test_warp_affine},
    };

    return check_main("warp", cases, sizeof cases / sizeof cases[0], argc, argv);
}
