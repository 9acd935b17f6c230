/*
 * test_addr.c - unix-socket paths as the kernel returns them: a path that
 * fills all of sun_path has no null byte, and what follows it in the
 * caller's storage must not be taken for more of it
 */
#include "config.h"

#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "mymalloc.h"
#include "tap.h"

#define PATH_OFF offsetof(struct sockaddr_un, sun_path)
#define PATH_MAX_LEN sizeof(((struct sockaddr_un *) 0)->sun_path)

/* storage - a unix address of path, followed by non-null garbage */
static socklen_t storage(struct sockaddr_storage *ss, const char *path,
                                 size_t len)
{
    struct sockaddr_un *sun = (struct sockaddr_un *) ss;

    memset(ss, 'X', sizeof(*ss));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, len);
    return ((socklen_t) (PATH_OFF + len));
}

int     main(void)
{
    struct sockaddr_storage ss;
    char    full[PATH_MAX_LEN + 1];
    char    buf[PATH_MAX_LEN + 1];
    char    small[8];
    char   *shown;
    socklen_t len;

    memset(full, 's', PATH_MAX_LEN);
    full[PATH_MAX_LEN] = 0;

    len = storage(&ss, full, PATH_MAX_LEN);
    addr_unix_path((struct sockaddr *) &ss, len, buf, sizeof(buf));
    ok(strcmp(buf, full) == 0, "a path of all %zu bytes ends there (%zu bytes)",
       PATH_MAX_LEN, strlen(buf));
    shown = addr_display((struct sockaddr *) &ss, len);
    ok(strncmp(shown, "unix:", 5) == 0 && strcmp(shown + 5, full) == 0,
       "addr_display shows it whole and no more");
    myfree(shown);

    /* a length beyond sun_path (a caller's sizeof(storage)) changes nothing */
    addr_unix_path((struct sockaddr *) &ss, sizeof(ss), buf, sizeof(buf));
    ok(strcmp(buf, full) == 0, "a longer length stops at sun_path's end");

    len = storage(&ss, "/run/x.sock", sizeof("/run/x.sock"));
    addr_unix_path((struct sockaddr *) &ss, len, buf, sizeof(buf));
    ok(strcmp(buf, "/run/x.sock") == 0, "a path with its null byte: %s", buf);

    len = storage(&ss, "/run/x.sock", strlen("/run/x.sock"));
    addr_unix_path((struct sockaddr *) &ss, len, buf, sizeof(buf));
    ok(strcmp(buf, "/run/x.sock") == 0, "a path without it, shorter: %s", buf);

    len = storage(&ss, "", 0);
    addr_unix_path((struct sockaddr *) &ss, len, buf, sizeof(buf));
    ok(buf[0] == 0, "an unnamed socket has an empty path");
    addr_unix_path((struct sockaddr *) &ss, 1, buf, sizeof(buf));
    ok(buf[0] == 0, "so does a length short of sun_path");

    len = storage(&ss, "\0abstract", 9);
    addr_unix_path((struct sockaddr *) &ss, len, buf, sizeof(buf));
    ok(buf[0] == 0, "an abstract socket has an empty path");

    len = storage(&ss, full, PATH_MAX_LEN);
    addr_unix_path((struct sockaddr *) &ss, len, small, sizeof(small));
    ok(strcmp(small, "sssssss") == 0, "cut to fit a small buffer: %s", small);
    return (done_testing());
}
