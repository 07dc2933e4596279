/* libc-test: one check or more for every header the libc shim provides (issue #5), run inside a
 * Rivet image. Each failed check prints a FAIL line; the last line says how many ran and failed,
 * and the exit status is 0 only when every check passed. Built with rivet-cc (see
 * libc-shim/bin/rivet-cc); `cargo xtask run --example c/libc-test` boots it. */
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int checks, failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        checks++;                                                                     \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                    \
        }                                                                             \
    } while (0)

#define CHECK_STR(got, want)                                                          \
    do {                                                                              \
        checks++;                                                                     \
        if (strcmp((got), (want)) != 0) {                                             \
            failures++;                                                               \
            printf("FAIL %s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, (got), (want)); \
        }                                                                             \
    } while (0)

static void test_stdio(void)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%5d|%-5d|%05d|%+d|%x|%X|%o|%#x", 42, 42, 42, 42, 255, 255, 8, 255);
    CHECK_STR(buf, "   42|42   |00042|+42|ff|FF|10|0xff");
    snprintf(buf, sizeof buf, "%.3f %e %g %g", 3.14159265, 12345.678, 0.0001, 1e20);
    CHECK_STR(buf, "3.142 1.234568e+04 0.0001 1e+20");
    snprintf(buf, sizeof buf, "%zu %lld %hhd %s %c %%", (size_t)7, -9000000000LL, (char)300, "str", 'c');
    CHECK_STR(buf, "7 -9000000000 44 str c %");
    snprintf(buf, sizeof buf, "%*.*s|", 6, 2, "abcdef");
    CHECK_STR(buf, "    ab|");
    snprintf(buf, sizeof buf, "%p", (void *)0x1234);
    CHECK_STR(buf, "0x1234");
    volatile size_t four = 4; /* not a constant: GCC would warn about the truncation we test */
    CHECK(snprintf(buf, four, "%s", "truncated") == 9 && strcmp(buf, "tru") == 0);
    CHECK(puts("stdio: puts works") >= 0);
    CHECK(fputs("stdio: fputs to stdout works\n", stdout) >= 0);
    CHECK(fwrite("stdio: fwrite works\n", 1, 20, stdout) == 20);
    CHECK(putchar('.') == '.' && putchar('\n') == '\n');
    CHECK(fprintf(stderr, "stdio: stderr works\n") == 20);
    CHECK(fflush(stdout) == 0);
    CHECK(fileno(stdout) == 1 && fileno(stderr) == 2);
    CHECK(fopen("/nope", "r") == NULL && errno == ENOENT);
    perror("stdio: perror");
    CHECK(getchar() == EOF && feof(stdin));
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int exit_handler_ran;
static void on_exit_handler(void) { exit_handler_ran = 1; }

/* `env` as the first argument: the boot command line carries LIBC_TEST_GREETING=hi (a KEY=VALUE
 * word before `--`), which getenv must find. */
static int expect_environment;

static void test_stdlib(void)
{
    if (expect_environment) {
        const char *greeting = getenv("LIBC_TEST_GREETING");
        CHECK(greeting != NULL && strcmp(greeting, "hi") == 0);
    }
    int *p = malloc(100);
    CHECK(p != NULL);
    memset(p, 0xab, 100);
    p = realloc(p, 10000);
    CHECK(p != NULL && ((unsigned char *)p)[99] == 0xab);
    free(p);
    int *z = calloc(10, sizeof(int));
    CHECK(z != NULL && z[9] == 0);
    free(z);
    void *aligned = NULL;
    CHECK(posix_memalign(&aligned, 256, 1000) == 0 && ((uintptr_t)aligned & 255) == 0);
    free(aligned);
    void *a2 = aligned_alloc(64, 128);
    CHECK(a2 != NULL && ((uintptr_t)a2 & 63) == 0);
    free(a2);
    CHECK(posix_memalign(&aligned, 3, 16) == EINVAL);

    char *end;
    CHECK(strtol("  -0x1f!", &end, 16) == -31 && *end == '!');
    CHECK(strtoul("777", NULL, 8) == 511);
    CHECK(strtoll("9223372036854775807", NULL, 10) == LLONG_MAX);
    errno = 0;
    CHECK(strtol("99999999999999999999", NULL, 10) == LONG_MAX && errno == ERANGE);
    CHECK(strtod("2.5e3", NULL) == 2500.0);
    CHECK(strtod("0.1", NULL) == 0.1);
    CHECK(atoi("123") == 123 && atol("-5") == -5);
    CHECK(abs(-3) == 3 && labs(-4L) == 4);

    int values[] = {5, 3, 9, 1, 7};
    qsort(values, 5, sizeof(int), compare_ints);
    CHECK(values[0] == 1 && values[4] == 9);
    int key = 7;
    int *found = bsearch(&key, values, 5, sizeof(int), compare_ints);
    CHECK(found != NULL && *found == 7);

    srand(1);
    int r1 = rand();
    srand(1);
    CHECK(rand() == r1 && r1 >= 0 && r1 <= RAND_MAX);
    unsigned char entropy[16] = {0};
    CHECK(getentropy(entropy, sizeof entropy) == 0 && arc4random_uniform(6) < 6);

    CHECK(getenv("NO_SUCH_VARIABLE") == NULL);
    CHECK(atexit(on_exit_handler) == 0);
}

static void test_string_ctype(void)
{
    char buf[64];
    CHECK(strlen("hello") == 5);
    strcpy(buf, "abc");
    strcat(buf, "def");
    CHECK_STR(buf, "abcdef");
    CHECK(strcmp("a", "b") < 0 && strncmp("abcx", "abcy", 3) == 0);
    CHECK(strchr("hello", 'l') == (const char *)"hello" + 2 || strchr("hello", 'l') != NULL);
    CHECK(strstr("haystack", "st") != NULL);
    CHECK(memcmp("ab", "ac", 2) < 0);
    char *dup = strdup("copy");
    CHECK(dup != NULL && strcmp(dup, "copy") == 0);
    free(dup);
    char words[] = "a,b,,c";
    char *save;
    int count = 0;
    for (char *t = strtok_r(words, ",", &save); t; t = strtok_r(NULL, ",", &save))
        count++;
    CHECK(count == 3);
    CHECK(isalpha('a') && !isalpha('1') && isdigit('7') && isspace('\t') && isupper('Q'));
    CHECK(toupper('a') == 'A' && tolower('Z') == 'z');
    CHECK(strcmp(strerror(ENOENT), "No such file or directory") == 0);
}

static void test_errno_unistd(void)
{
    errno = 0;
    CHECK(write(7, "x", 1) == -1 && errno == EBADF);
    CHECK(write(1, "unistd: write(1) works\n", 23) == 23);
    CHECK(getpid() == 1);
    CHECK(sysconf(_SC_PAGESIZE) == 4096 && sysconf(_SC_NPROCESSORS_ONLN) >= 1);
    CHECK(open("/etc/passwd", O_RDONLY) == -1 && errno == ENOENT);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 3);
    CHECK(fcntl(s, F_SETFL, fcntl(s, F_GETFL, 0) | O_NONBLOCK) == 0);
    CHECK((fcntl(s, F_GETFL, 0) & O_NONBLOCK) != 0);
    CHECK(close(s) == 0);
    CHECK(close(s) == -1 && errno == EBADF);
    struct in_addr address;
    char text[INET_ADDRSTRLEN];
    CHECK(inet_pton(AF_INET, "10.0.2.15", &address) == 1 && address.s_addr == htonl(0x0a00020f));
    CHECK(inet_ntop(AF_INET, &address, text, sizeof text) && strcmp(text, "10.0.2.15") == 0);
    CHECK(inet_pton(AF_INET, "10.0.2.300", &address) == 0);
    CHECK(usleep(1000) == 0 && sleep(0) == 0);
    CHECK(sched_yield() == 0);
}

static void test_time(void)
{
    struct timespec a, b;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
    struct timespec nap = {0, 5 * 1000 * 1000};
    CHECK(nanosleep(&nap, NULL) == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    long long elapsed = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    CHECK(elapsed >= 5000000);
    CHECK(clock_gettime(CLOCK_REALTIME, &a) == 0 && time(NULL) >= 0);
    CHECK(clock_gettime(12345, &a) == -1 && errno == EINVAL);
    time_t t = 86400 * 365;
    struct tm tm;
    CHECK(gmtime_r(&t, &tm) != NULL && tm.tm_year == 71 && tm.tm_mon == 0 && tm.tm_mday == 1);
    char buf[64];
    CHECK(strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 19);
    CHECK_STR(buf, "1971-01-01 00:00:00");
}

static jmp_buf jump;
static void jump_back(int depth)
{
    if (depth < 0)
        return;
    if (depth > 0)
        jump_back(depth - 1);
    longjmp(jump, 7);
}

static void test_setjmp_math(void)
{
    volatile int passes = 0;
    int value = setjmp(jump);
    passes++;
    if (value == 0)
        jump_back(5);
    CHECK(value == 7 && passes == 2);
    CHECK(fabs(sqrt(2.0) - 1.41421356237) < 1e-9);
    CHECK(fabs(sin(M_PI / 2) - 1.0) < 1e-12);
    CHECK(fabs(pow(2.0, 10.0) - 1024.0) < 1e-9 && floor(-1.5) == -2.0);
    CHECK(isnan(NAN) && isinf(INFINITY));
}

#define WORKERS 4
#define ROUNDS 1000
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t counter_changed = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static int counter, once_runs, destructor_runs;

static void run_once(void) { once_runs++; }
static void key_destructor(void *value) { (void)value; __atomic_fetch_add(&destructor_runs, 1, __ATOMIC_SEQ_CST); }

static void *worker(void *argument)
{
    pthread_once(&once, run_once);
    pthread_setspecific(key, argument);
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_cond_broadcast(&counter_changed);
        pthread_mutex_unlock(&counter_lock);
    }
    pthread_rwlock_rdlock(&table_lock);
    pthread_rwlock_unlock(&table_lock);
    return (void *)((intptr_t)pthread_getspecific(key) * 2);
}

static void test_pthread(void)
{
    CHECK(pthread_key_create(&key, key_destructor) == 0);
    pthread_t threads[WORKERS];
    for (intptr_t i = 0; i < WORKERS; i++)
        CHECK(pthread_create(&threads[i], NULL, worker, (void *)(i + 1)) == 0);
    pthread_mutex_lock(&counter_lock);
    while (counter < WORKERS * ROUNDS)
        pthread_cond_wait(&counter_changed, &counter_lock);
    pthread_mutex_unlock(&counter_lock);
    for (intptr_t i = 0; i < WORKERS; i++) {
        void *result;
        CHECK(pthread_join(threads[i], &result) == 0 && (intptr_t)result == 2 * (i + 1));
    }
    CHECK(counter == WORKERS * ROUNDS && once_runs == 1 && destructor_runs == WORKERS);
    CHECK(pthread_equal(pthread_self(), pthread_self()));

    pthread_mutexattr_t attr;
    pthread_mutex_t recursive;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&recursive, &attr);
    CHECK(pthread_mutex_lock(&recursive) == 0 && pthread_mutex_lock(&recursive) == 0);
    CHECK(pthread_mutex_unlock(&recursive) == 0 && pthread_mutex_unlock(&recursive) == 0);
    CHECK(pthread_mutex_trylock(&counter_lock) == 0 && pthread_mutex_trylock(&counter_lock) == EBUSY);
    pthread_mutex_unlock(&counter_lock);

    pthread_condattr_t cattr;
    pthread_cond_t timed;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&timed, &cattr);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += 2000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&counter_lock);
    CHECK(pthread_cond_timedwait(&timed, &counter_lock, &deadline) == ETIMEDOUT);
    pthread_mutex_unlock(&counter_lock);
}

static int constructed;
__attribute__((constructor)) static void constructor(void) { constructed = 42; }

int main(int argc, char **argv)
{
    printf("libc-test: %d argument(s) after %s\n", argc - 1, argv[0]);
    CHECK(constructed == 42);
    expect_environment = argc > 1 && strcmp(argv[1], "env") == 0;
    assert(argc >= 1);
    test_stdio();
    test_stdlib();
    test_string_ctype();
    test_errno_unistd();
    test_time();
    test_setjmp_math();
    test_pthread();
    printf("libc-test: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
