/*
 * notify.c - tell a service manager about our state (sd_notify protocol)
 *
 * The protocol is one datagram on a unix socket; linking libsystemd for
 * that is not worth a dependency. The socket is connected when we start,
 * before any chroot would hide the path.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdbase.h"
#include "msg.h"
#include "mymalloc.h"
#include "notify.h"

static int notify_fd = -1;
static int notify_stopped;
static char *notify_path;               /* for a re-execution */

/* notify_init - connect to $NOTIFY_SOCKET, then hide it from handlers */
void    notify_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun;
    size_t  len;

    if (path && (path[0] == '/' || path[0] == '@')
        && (len = strlen(path)) < sizeof(sun.sun_path)) {
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, path, len);
        if (path[0] == '@')
            sun.sun_path[0] = 0;
        if ((notify_fd = fdbase_lift(socket(AF_UNIX, SOCK_DGRAM
                                            | SOCK_CLOEXEC, 0))) < 0
            || connect(notify_fd, (struct sockaddr *) &sun,
                       offsetof(struct sockaddr_un, sun_path) + len) < 0) {
            ss_msg_warn("NOTIFY_SOCKET %s: %m", path);
            if (notify_fd >= 0)
                close(notify_fd);
            notify_fd = -1;
        }
    }
    if (notify_fd >= 0)
        notify_path = mystrdup(path);
    unsetenv("NOTIFY_SOCKET");
}

/* notify_socket_path - $NOTIFY_SOCKET as it was, when it works */
const char *notify_socket_path(void)
{
    return (notify_path);
}

/* notify_enabled - is there a service manager to tell? */
int     notify_enabled(void)
{
    return (notify_fd >= 0);
}

/* notify_send - one state datagram */
void    notify_send(const char *state)
{
    if (notify_fd >= 0 && send(notify_fd, state, strlen(state), MSG_NOSIGNAL) < 0)
        ss_msg_warn("notify %s: %m", state);
}

/* notify_stopping - STOPPING=1, once */
void    notify_stopping(void)
{
    if (!notify_stopped) {
        notify_stopped = 1;
        notify_send("STOPPING=1");
    }
}
