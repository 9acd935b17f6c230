/*
 * notify.c - tell a service manager about our state (sd_notify protocol)
 *
 * The protocol is one datagram on a unix socket; linking libsystemd for
 * that is not worth a dependency.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "msg.h"
#include "notify.h"

static struct sockaddr_un notify_addr;
static socklen_t notify_len;

/* notify_init - take NOTIFY_SOCKET from the environment */
void    notify_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    size_t  len;

    if (path && (path[0] == '/' || path[0] == '@')
        && (len = strlen(path)) < sizeof(notify_addr.sun_path)) {
        notify_addr.sun_family = AF_UNIX;
        memcpy(notify_addr.sun_path, path, len);
        if (path[0] == '@')
            notify_addr.sun_path[0] = 0;
        notify_len = offsetof(struct sockaddr_un, sun_path) + len;
    }
    unsetenv("NOTIFY_SOCKET");
}

/* notify_send - one state datagram */
void    notify_send(const char *state)
{
    int     fd;

    if (notify_len == 0)
        return;
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
        msg_warn("notify socket: %m");
        return;
    }
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
               (struct sockaddr *) &notify_addr, notify_len) < 0)
        msg_warn("notify %s: %m", state);
    close(fd);
}
