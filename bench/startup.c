/* startup: the time to run a command to its end, two commands interleaved.
 *
 *   startup [-n RUNS] [-T SECS] -a "CMD A ..." -b "CMD B ..."
 *
 * Runs A and B RUNS times each (default 500), alternating, the order flipped
 * every pair, so both see the same machine noise. Each run: posix_spawnp with
 * stdin and stdout on /dev/null, waitpid; the time from before posix_spawnp to
 * after waitpid (CLOCK_MONOTONIC). Commands are split on blanks (no quoting).
 * A run that exits non-zero counts as an error; the whole thing stops after
 * -T seconds (default 60).
 *
 * Output: one line per command, key=value:
 *   cmd=a runs=500 err=0 p50_us=712 mean_us=730 p99_us=1100
 * then "ratio_p50=1.04 ratio_mean=1.05" (b / a).
 * Build: cc -O2 -o startup startup.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { MAXARGS = 32 };

struct cmd {
    char *argv[MAXARGS + 1];
    uint32_t *us;
    long runs, err;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void split(struct cmd *c, char *s)
{
    int n = 0;
    for (char *w = strtok(s, " \t"); w; w = strtok(NULL, " \t")) {
        if (n == MAXARGS) {
            fprintf(stderr, "startup: too many words\n");
            exit(64);
        }
        c->argv[n++] = w;
    }
    if (n == 0) {
        fprintf(stderr, "startup: empty command\n");
        exit(64);
    }
    c->argv[n] = NULL;
}

static void run1(struct cmd *c, const posix_spawn_file_actions_t *fa)
{
    pid_t pid;
    int st;
    uint64_t t0 = now_ns();
    if (posix_spawnp(&pid, c->argv[0], fa, NULL, c->argv, environ) != 0) {
        c->err++;
        return;
    }
    while (waitpid(pid, &st, 0) < 0)
        ;
    c->us[c->runs++] = (uint32_t)((now_ns() - t0) / 1000);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        c->err++;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, struct cmd *c, double *p50, double *mean)
{
    double sum = 0;
    qsort(c->us, (size_t)c->runs, sizeof *c->us, cmp_u32);
    for (long i = 0; i < c->runs; i++)
        sum += c->us[i];
    *p50 = c->runs ? c->us[c->runs / 2] : 0;
    *mean = c->runs ? sum / (double)c->runs : 0;
    printf("cmd=%s runs=%ld err=%ld p50_us=%.0f mean_us=%.0f p99_us=%u\n", name, c->runs,
           c->err, *p50, *mean, c->runs ? c->us[c->runs * 99 / 100] : 0);
}

int main(int argc, char **argv)
{
    struct cmd a = {0}, b = {0};
    long runs = 500;
    double tmax = 60, pa, ma, pb, mb;
    int opt;
    posix_spawn_file_actions_t fa;

    while ((opt = getopt(argc, argv, "n:T:a:b:")) != -1) {
        switch (opt) {
        case 'n': runs = strtol(optarg, NULL, 10); break;
        case 'T': tmax = strtod(optarg, NULL); break;
        case 'a': split(&a, optarg); break;
        case 'b': split(&b, optarg); break;
        default: goto usage;
        }
    }
    if (runs < 1 || runs > 1000000 || !a.argv[0] || !b.argv[0])
        goto usage;
    a.us = calloc((size_t)runs, sizeof *a.us);
    b.us = calloc((size_t)runs, sizeof *b.us);
    if (!a.us || !b.us)
        return 111;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    uint64_t end = now_ns() + (uint64_t)(tmax * 1e9);
    for (long i = 0; i < runs && now_ns() < end; i++) {
        struct cmd *first = (i & 1) ? &b : &a, *second = (i & 1) ? &a : &b;
        run1(first, &fa);
        run1(second, &fa);
    }
    report("a", &a, &pa, &ma);
    report("b", &b, &pb, &mb);
    printf("ratio_p50=%.3f ratio_mean=%.3f\n", pa > 0 ? pb / pa : 0, ma > 0 ? mb / ma : 0);
    return a.err || b.err;
usage:
    fprintf(stderr, "usage: startup [-n RUNS] [-T SECS] -a \"CMD ...\" -b \"CMD ...\"\n");
    return 64;
}
