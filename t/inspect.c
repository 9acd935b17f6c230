/*
 * inspect.c - a test handler that reports what it inherited: its open
 * descriptors, the dispositions of signals that are not default, and its
 * blocked signal mask. (A shell script cannot: the shell keeps the script
 * open and sets up signals of its own.) Then, for each PATH given as an
 * argument, "open PATH: ok" or "open PATH: ERROR": whether it could read
 * that file (t/tls-ops.bats: a handler cannot open the key). Built
 * twice: t/inspect, and t/inspect-static for a chroot that holds nothing
 * else.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int     main(int argc, char **argv)
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
    for (n = 1; n < argc; n++) {
        if ((fd = open(argv[n], O_RDONLY)) >= 0) {
            printf("open %s: ok\n", argv[n]);
            close(fd);
        } else
            printf("open %s: %s\n", argv[n], strerror(errno));
    }
    return (0);
}
