/*
 * static-echo.c - a statically linked test handler, so that it runs in
 * a chroot that holds nothing else: it writes "static: LINE" for the
 * first line it reads and exits with the status given as argv[1].
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int     main(int argc, char **argv)
{
    char    line[256] = "";

    if (fgets(line, sizeof(line), stdin) == 0)
        line[0] = 0;
    line[strcspn(line, "\n")] = 0;
    printf("static: %s\n", line);
    return (argc > 1 ? (int) strtol(argv[1], 0, 10) : 0);
}
