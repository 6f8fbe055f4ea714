// A tiny test harness: CHECK counts, TEST_END prints "N passed, N failed".
#ifndef SLM_TEST_H
#define SLM_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed, test_failed;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (cond) {                                                             \
            test_passed++;                                                      \
        } else {                                                                \
            test_failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
        }                                                                       \
    } while (0)

#define TEST_END()                                                              \
    do {                                                                        \
        printf("%d passed, %d failed\n", test_passed, test_failed);             \
        return test_failed ? 1 : 0;                                             \
    } while (0)

// Tests that read ../shared/data: skipped outside CI when it is missing, a
// failure in CI (CI=true), as the project's rules say.
static inline const char *test_shared_dir(const char *what) {
    static const char *dirs[] = {"../shared", "../../shared"};
    char path[512];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], what);
        FILE *f = fopen(path, "rb");
        if (f) { fclose(f); return dirs[i]; }
    }
    const char *ci = getenv("CI");
    if (ci && !strcmp(ci, "true")) {
        fprintf(stderr, "FAIL: ../shared/%s not found (required in CI)\n", what);
        printf("0 passed, 1 failed\n");
        exit(1);
    }
    printf("skipped: ../shared/data not found\n");
    printf("0 passed, 0 failed\n");
    exit(0);
}

#endif
