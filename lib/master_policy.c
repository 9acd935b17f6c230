/*
 * master_policy.c - Postfix master(8) mode as a policy of the resident loop
 *
 * Under master(8) a process takes one client at a time, and only with
 * the accept lock; it tells the master "taken" after each accept and
 * "available" when it has nothing to do; with the pass transport, what
 * it accepts is a connection that brings the client's descriptor. These
 * are the hooks of RESIDENT_POLICY: the loop itself has no branch for
 * master(8). master.c speaks the protocol.
 */
#include "config.h"

#include <sys/socket.h>

#include "client_env.h"
#include "msg.h"
#include "resident.h"

/* master_policy_lost - the master is gone: serve what we have, leave */
static void master_policy_lost(RESIDENT *rs)
{
    ss_msg_info("master disconnect -- exiting");
    if (!rs->stopping)
        resident_stop(rs);
}

/* master_policy_may_accept - one at a time, and only with the lock */
static int master_policy_may_accept(RESIDENT *rs)
{
    return (client_busy(rs->clients) == 0 && master_may_accept(&rs->sk->ma));
}

/*
 * master_policy_accepted - let the next process have the lock, and tell
 * the master that this one is taken. The client is served even when the
 * master is gone.
 */
static void master_policy_accepted(RESIDENT *rs, int fd)
{
    MASTER *ma = &rs->sk->ma;

    master_unlock(ma);
    if (fd >= 0 && !ma->gone && master_notify(ma, MASTER_TAKEN) < 0)
        master_policy_lost(rs);
}

/* master_policy_passed - a pass connection brought its descriptor (or not) */
static void master_policy_passed(int fd, void *context)
{
    CLIENT *cl = context;
    RESIDENT *rs = cl->table->context;

    client_pass(cl, fd);
    if (fd >= 0) {
        cl->c.peer_len = sizeof(cl->c.peer);
        if (getpeername(fd, (struct sockaddr *) &cl->c.peer,
                        &cl->c.peer_len) < 0)
            cl->c.peer_len = 0;         /* gone: the handler sees EOF */
        client_env_from_fd(&cl->c.env, fd);     /* passed to us */
        client_run(cl, 0);
    }
    resident_update(rs);
}

/* master_policy_pass - the pass transport: the descriptor comes later */
static int master_policy_pass(RESIDENT *rs, CLIENT *cl, int conn)
{
    MASTER *ma = &rs->sk->ma;

    if (ma->transport != MASTER_PASS)
        return (0);
    master_pass_receive(ma, conn, master_policy_passed, cl);
    return (1);
}

/*
 * master_policy_update - with nothing to do, tell the master that we are
 * available (once per client) and ask for the accept lock
 */
static void master_policy_update(RESIDENT *rs)
{
    MASTER *ma = &rs->sk->ma;

    if (client_busy(rs->clients) > 0)
        return;
    /* Once gone, the master is not written to (nor its loss logged) again. */
    if (ma->taken && !ma->gone && master_notify(ma, MASTER_AVAIL) < 0)
        master_policy_lost(rs);
    /* Holding the lock while we cannot accept would stall the others. */
    if (!rs->stopping && !rs->backoff)
        master_lock(ma);
}

/* master_policy_stop - accept no more: a sibling may have the lock */
static void master_policy_stop(RESIDENT *rs)
{
    master_unlock(&rs->sk->ma);
}

/* master_policy_drop - the drain is over: a pass in progress is dropped */
static void master_policy_drop(RESIDENT *rs)
{
    master_pass_cancel(&rs->sk->ma);
}

static const RESIDENT_POLICY master_policy = {
    master_policy_may_accept, master_policy_accepted, master_policy_pass,
    master_policy_update, master_policy_stop, master_policy_drop,
};

/* master_policy_gone - end of file on fd 5 */
static void master_policy_gone(void *context)
{
    master_policy_lost(context);
    resident_update(context);
}

/* master_policy_locked - the accept lock is ours: watch the listeners */
static void master_policy_locked(void *context)
{
    resident_update(context);
}

/* master_policy_start - the policy, the status channel, the lock's thread */
void    master_policy_start(RESIDENT *rs)
{
    rs->policy = &master_policy;
    master_start(&rs->sk->ma, rs->sk->base, master_policy_gone,
                 master_policy_locked, rs);
}
