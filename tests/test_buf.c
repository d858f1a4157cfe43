/* Tests for util/buf: growth, the size cap, formatting, HTML escaping, detach. */
#include "check.h"

#include "util/buf.h"

#include <stdlib.h>

static void test_append_grows(void)
{
    struct buf b;

    buf_init(&b, 0);
    CHECK_STR(buf_str(&b), "");
    for (int i = 0; i < 1000; i++)
        CHECK_INT(buf_puts(&b, "abc"), BUF_OK);
    CHECK_INT(b.len, 3000);
    CHECK_INT(b.data[b.len], '\0');
    CHECK(b.cap > b.len);
    buf_release(&b);
    buf_release(NULL);
}

static void test_cap(void)
{
    struct buf b;

    buf_init(&b, 5);
    CHECK_INT(buf_puts(&b, "abcd"), BUF_OK);
    CHECK_INT(buf_puts(&b, "ef"), BUF_ERR_FULL);
    CHECK_STR(buf_str(&b), "abcd");
    CHECK_INT(buf_putc(&b, 'e'), BUF_OK);
    CHECK_INT(buf_putc(&b, 'f'), BUF_ERR_FULL);
    CHECK_INT(buf_printf(&b, "%d", 1), BUF_ERR_FULL);
    CHECK_STR(buf_str(&b), "abcde");
    buf_reset(&b);
    CHECK_STR(buf_str(&b), "");
    CHECK_INT(buf_printf(&b, "%s-%d", "x", 42), BUF_OK);
    CHECK_STR(buf_str(&b), "x-42");
    buf_release(&b);
}

static void test_html(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
        {"Tom & \"Jerry\"", "Tom &amp; &quot;Jerry&quot;"},
        {"Penélope Cruz", "Penélope Cruz"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf b;

        buf_init(&b, 0);
        CHECK_INT(buf_put_html(&b, cases[i].in), BUF_OK);
        CHECK_STR(buf_str(&b), cases[i].want);
        buf_release(&b);
    }
}

static void test_html_cap_is_atomic(void)
{
    struct buf b;

    buf_init(&b, 8);
    CHECK_INT(buf_puts(&b, "ab"), BUF_OK);
    CHECK_INT(buf_put_html(&b, "<<"), BUF_ERR_FULL);
    CHECK_STR(buf_str(&b), "ab");
    buf_release(&b);
}

static void test_detach(void)
{
    struct buf b;
    size_t n;
    char *s;

    buf_init(&b, 0);
    s = buf_detach(&b, &n);
    CHECK_STR(s, "");
    CHECK_INT(n, 0);
    free(s);
    buf_puts(&b, "hello");
    s = buf_detach(&b, &n);
    CHECK_STR(s, "hello");
    CHECK_INT(n, 5);
    CHECK(b.data == NULL && b.len == 0);
    free(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"append_grows", test_append_grows}, {"cap", test_cap},
        {"html", test_html},                 {"html_cap_is_atomic", test_html_cap_is_atomic},
        {"detach", test_detach},
    };

    return check_main("buf", cases, sizeof cases / sizeof cases[0], argc, argv);
}
