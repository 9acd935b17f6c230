/*
 * inspect.c - a test handler that reports what it inherited: its open
 * descriptors, the dispositions of signals that are not default, and its
 * blocked signal mask. (A shell script cannot: the shell keeps the script
 * open and sets up signals of its own.)
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>

int     main(void)
{
    struct sigaction sa;
    sigset_t mask;
    int     fd;
    int     sig;
    int     n = 0;

    printf("fds:");
    for (fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            printf(" %d", fd);
    printf("\nnot default:");
    for (sig = 1; sig < NSIG; sig++)
        if (sigaction(sig, 0, &sa) == 0 && sa.sa_handler != SIG_DFL)
            printf(" %d", sig);
    printf("\nblocked:");
    sigprocmask(SIG_BLOCK, 0, &mask);
    for (sig = 1; sig < NSIG; sig++)
        if (sigismember(&mask, sig) == 1) {
            printf(" %d", sig);
            n++;
        }
    printf("\n");
    return (0);
}
