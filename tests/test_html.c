/* The template writer: escaping of every string conversion, URL encoding, numbers. */
#include "check.h"

#include "web/html.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void test_escape(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain", "plain"},
        {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"a \"b\" & 'c'", "a &quot;b&quot; &amp; &#39;c&#39;"},
        {"", ""},
        {"Penélope", "Penélope"},
    };
    struct buf b;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_init(&b, 0);
        CHECK_INT(html_fmt(&b, "<p title=\"%s\">%s</p>", cases[i].in, cases[i].in), BUF_OK);
        {
            char want[512];

            snprintf(want, sizeof want, "<p title=\"%s\">%s</p>", cases[i].want, cases[i].want);
            CHECK_STR(buf_str(&b), want);
        }
        buf_release(&b);
    }
}

static void test_conversions(void)
{
    struct buf b;

    buf_init(&b, 0);
    html_fmt(&b, "%d|%L|%.0f%%|%.1f|%.3f|%R|%u", -7, (int64_t)1234567890123, 87.4, 99.75, 0.5,
             "<b>", "a b&c/é");
    CHECK_STR(buf_str(&b), "-7|1234567890123|87%|99.8|0.500|<b>|a%20b%26c%2F%C3%A9");
    buf_release(&b);
}

static void test_cap(void)
{
    struct buf b;

    buf_init(&b, 8);
    CHECK_INT(html_fmt(&b, "%s", "<<<<"), BUF_ERR_FULL);
    CHECK(b.len <= 8);
    buf_release(&b);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"escape", test_escape},
        {"conversions", test_conversions},
        {"cap", test_cap},
    };

    return check_main("html", cases, sizeof cases / sizeof cases[0], argc, argv);
}
