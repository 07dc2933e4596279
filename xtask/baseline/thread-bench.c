/*
 * The Linux side of `cargo xtask bench`'s thread figures: the same measurements as
 * examples/thread-bench.rs (spawn + join, a ping-pong context switch over a mutex and a
 * condition variable, an uncontended lock + unlock, the lateness of a 1 ms sleep), printed as
 * the same `bench:` lines. Built static by the bench (host gcc, or aarch64-linux-gnu-gcc) and
 * run by the baseline initramfs's /init.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *nothing(void *arg) { return arg; }

enum { SPAWNS = 200, ROUND_TRIPS = 2000, LOCKS = 100000, SLEEPS = 20 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ball;

static void *partner(void *arg) {
    for (int i = 0; i < ROUND_TRIPS; i++) {
        pthread_mutex_lock(&lock);
        while (!ball) pthread_cond_wait(&cv, &lock);
        ball = 0;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&lock);
    }
    return arg;
}

int main(void) {
    uint64_t start = now_ns();
    for (int i = 0; i < SPAWNS; i++) {
        pthread_t t;
        pthread_create(&t, NULL, nothing, NULL);
        pthread_join(t, NULL);
    }
    double spawn = (double)(now_ns() - start) / SPAWNS / 1000.0;

    pthread_t t;
    pthread_create(&t, NULL, partner, NULL);
    start = now_ns();
    for (int i = 0; i < ROUND_TRIPS; i++) {
        pthread_mutex_lock(&lock);
        ball = 1;
        pthread_cond_signal(&cv);
        while (ball) pthread_cond_wait(&cv, &lock);
        pthread_mutex_unlock(&lock);
    }
    double sw = (double)(now_ns() - start) / (2.0 * ROUND_TRIPS) / 1000.0;
    pthread_join(t, NULL);

    static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
    volatile uint64_t counter = 0;
    start = now_ns();
    for (int i = 0; i < LOCKS; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
    }
    uint64_t lock_ns = (now_ns() - start) / LOCKS;

    uint64_t total_late = 0, max_late = 0;
    for (int i = 0; i < SLEEPS; i++) {
        struct timespec ms = {0, 1000000};
        uint64_t s = now_ns();
        nanosleep(&ms, NULL);
        uint64_t slept = now_ns() - s;
        uint64_t late = slept > 1000000 ? slept - 1000000 : 0;
        total_late += late;
        if (late > max_late) max_late = late;
    }

    printf("bench: spawn+join %.3f us\n", spawn);
    printf("bench: context switch %.3f us\n", sw);
    printf("bench: mutex lock+unlock %llu ns\n", (unsigned long long)lock_ns);
    printf("bench: sleep lateness %llu us mean, %llu us max (1 ms sleeps)\n",
           (unsigned long long)(total_late / SLEEPS / 1000), (unsigned long long)(max_late / 1000));
    return 0;
}
