#ifndef SS_CLIENT_ENV_H
#define SS_CLIENT_ENV_H

/*++
 * NAME
 *	client_env 3
 * SUMMARY
 *	UCSPI environment variables that describe one client
 * SYNOPSIS
 *	#include <client_env.h>
 *
 *	extern const char *const client_env_names[];
 *
 *	void	client_env_tcp(SS_CLIENT_ENV *env, const char *local_host,
 *			const char *local_port, const struct sockaddr *peer,
 *			socklen_t peer_len);
 *	void	client_env_unix(SS_CLIENT_ENV *env, const char *local_path,
 *			int fd);
 *	void	client_env_from_fd(SS_CLIENT_ENV *env, int fd);
 *	void	client_env_proxy(SS_CLIENT_ENV *env,
 *			const struct sockaddr *proxy, socklen_t len);
 *	void	client_env_hosts(SS_CLIENT_ENV *env, const char *remote,
 *			const char *local);
 *	void	client_env_clear(SS_CLIENT_ENV *env);
 *	void	client_env_rule(SS_CLIENT_ENV *env, char *const *assignments);
 *	void	client_env_tls(SS_CLIENT_ENV *env, char *strings, size_t len);
 * DESCRIPTION
 *	A SS_CLIENT_ENV holds up to SS_CLIENT_ENV_MAX "NAME=value" strings in fixed
 *	buffers, and env->vars, a null-terminated list of them, ready to
 *	append to a handler's environment. Nothing is allocated.
 *
 *	client_env_tcp() sets PROTO=TCP, TCPLOCALIP, TCPLOCALPORT,
 *	TCPREMOTEIP, TCPREMOTEPORT, REMOTE_ADDR and REMOTE_PORT (IPv6
 *	addresses without brackets, IPv4-mapped ones as IPv4).
 *
 *	client_env_unix() sets PROTO=UNIX, UNIXLOCALPATH, and from the
 *	socket's peer credentials UNIXREMOTEEUID, UNIXREMOTEEGID and
 *	UNIXREMOTEPID.
 *
 *	client_env_from_fd() looks at fd itself (stream mode): the TCP or
 *	UNIX set when it is a connected socket, nothing otherwise.
 *
 *	client_env_proxy() adds PROXYREMOTEIP and PROXYREMOTEPORT, the
 *	address of the proxy that sent a PROXY header, after the TCP or
 *	UNIX set; nothing when it is no IPv4 or IPv6 address.
 *
 *	client_env_hosts() adds TCPREMOTEHOST=remote and TCPLOCALHOST=local
 *	(each unless null, and unless set already) to the TCP set; nothing
 *	for other clients.
 *
 *	env->vars points into env itself: a SS_CLIENT_ENV is never copied
 *	(each client has one, in its one CLIENT: client.h).
 *
 *	client_env_rule() appends the "NAME=value" assignments of the allow
 *	rule that admitted the client (at most SS_CLIENT_ENV_RULE_MAX), after
 *	the variables above; they are not copied, and must live as long as
 *	the SS_CLIENT_ENV (the rules live as long as the process).
 *
 *	client_env_tls() appends the TLS variables of a finished handshake
 *	(tls.h: tls_env()), len bytes of null-terminated strings, after
 *	the rule's; they are not copied either.
 *	client_env_names lists every name these functions may set (null
 *	terminated), so that a caller can drop inherited copies once.
 *--*/

#include <sys/socket.h>

#include "single_server.h"		/* SS_CLIENT_ENV */

extern const char *const client_env_names[];

extern void client_env_tcp(SS_CLIENT_ENV *, const char *, const char *,
                                   const struct sockaddr *, socklen_t);
extern void client_env_unix(SS_CLIENT_ENV *, const char *, int);
extern void client_env_from_fd(SS_CLIENT_ENV *, int);
extern void client_env_proxy(SS_CLIENT_ENV *, const struct sockaddr *,
                                     socklen_t);
extern void client_env_hosts(SS_CLIENT_ENV *, const char *, const char *);
extern void client_env_clear(SS_CLIENT_ENV *);
extern void client_env_rule(SS_CLIENT_ENV *, char *const *);
extern void client_env_tls(SS_CLIENT_ENV *, char *, size_t);

#endif
