/*
 * check: doppel's small unit-test harness. A test file lists its cases in a table and
 * calls check_main; each case runs in order, failures are recorded without stopping the
 * case (CHECK) or stop it (REQUIRE), and SKIP marks a case that cannot run here (missing
 * test data, missing reference tool) with the reason. The binary's last line is
 * "<suite>: N tests, N passed, N failed, N skipped"; tests/run.sh adds them up.
 */
#ifndef DOPPEL_CHECK_H
#define DOPPEL_CHECK_H

#include <math.h>
#include <stddef.h>
#include <string.h>

struct check_case {
    const char *name;
    void (*fn)(void);
};

/* Runs every case (or those named on the command line); returns the exit status. */
int check_main(const char *suite, const struct check_case *cases, size_t n, int argc,
               char **argv);

/* Records a failure of the running case. */
void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Marks the running case skipped, with the reason. */
void check_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Returns the number of failures recorded so far in the running case. */
int check_failures(void);

/* Returns $DOPPEL_TESTDATA (the shared test data folder) when it is a directory, else
 * NULL. Borrowed from the environment. */
const char *check_testdata(void);

/* Returns the models folder ($DOPPEL_MODELS or ./models) when it exists, else NULL. */
const char *check_models(void);

/* Returns a fresh empty temporary directory for the running test binary; removed at exit.
 * Borrowed, static storage. */
const char *check_tmpdir(void);

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond))                                                                           \
            check_fail(__FILE__, __LINE__, "%s", #cond);                                       \
    } while (0)

#define REQUIRE(cond)                                                                          \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            check_fail(__FILE__, __LINE__, "%s", #cond);                                       \
            return;                                                                            \
        }                                                                                      \
    } while (0)

#define CHECK_INT(a, b)                                                                        \
    do {                                                                                       \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                        \
        if (check_a_ != check_b_)                                                              \
            check_fail(__FILE__, __LINE__, "%s == %s (%lld vs %lld)", #a, #b, check_a_,        \
                       check_b_);                                                              \
    } while (0)

#define CHECK_STR(a, b)                                                                        \
    do {                                                                                       \
        const char *check_a_ = (a), *check_b_ = (b);                                           \
        if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_) != 0)           \
            check_fail(__FILE__, __LINE__, "%s == %s (\"%s\" vs \"%s\")", #a, #b,              \
                       check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");        \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                  \
    do {                                                                                       \
        double check_a_ = (a), check_b_ = (b);                                                 \
        if (!(fabs(check_a_ - check_b_) <= (tol)))                                             \
            check_fail(__FILE__, __LINE__, "%s ~ %s (%.6g vs %.6g, tol %g)", #a, #b, check_a_, \
                       check_b_, (double)(tol));                                               \
    } while (0)

#define SKIP(...)                                                                              \
    do {                                                                                       \
        check_skip(__VA_ARGS__);                                                               \
        return;                                                                                \
    } while (0)

#endif
