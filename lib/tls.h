#ifndef SS_TLS_H
#define SS_TLS_H

/*++
 * NAME
 *	tls 3
 * SUMMARY
 *	the TLS configuration: certificates, keys, client verification
 * SYNOPSIS
 *	#include <tls.h>
 *
 *	TLS_SERVER *tls_open(const TLS_PARAMS *params);
 *	int	tls_files_readable(const TLS_PARAMS *params, char **err);
 *	SSL	*tls_ssl_new(TLS_SERVER *tls);
 *	size_t	tls_env(SSL *ssl, const TLS_SERVER *tls, char *buf,
 *			size_t len);
 *	const char *tls_reason(SSL *ssl, int ret, char *buf, size_t len);
 *	void	tls_free(TLS_SERVER *tls);
 * DESCRIPTION
 *	tls_open() reads and checks the files the tls_* parameters name
 *	(SPEC section 12): each certificate chain with its key (the key
 *	may be in the certificate's file), the CA file for client
 *	certificates. A missing or unreadable file, a key that does not
 *	match its certificate, an expired certificate and a bad value are
 *	configuration errors (exit 100) naming the parameter and the file;
 *	a certificate that expires within 14 days is a warning. It returns
 *	null when tls_cert_file is empty (TLS off). Everything is read now,
 *	before privileges are dropped: nothing is opened later.
 *
 *	tls_files_readable() says whether every file can be opened now:
 *	0, or -1 and the first that cannot (err, to be freed).
 *
 *	tls_ssl_new() makes a connection object for one client: the first
 *	certificate, another one when the client's SNI names it.
 *
 *	tls_env() writes the handler's TLS variables for a finished
 *	handshake into buf as "NAME=value" strings, each ended by a null
 *	byte, and returns their total length (0: they did not fit).
 *	Values that come from the client (SNI, certificate names) are
 *	bounded and made printable.
 *
 *	tls_reason() says in a few words why a handshake failed, for the
 *	log: OpenSSL's reason ("wrong version number"), or what the
 *	system said.
 * DIAGNOSTICS
 *	Configuration errors: exit 100 (ss_msg_usage()).
 *--*/

#include <openssl/ssl.h>

typedef struct TLS_PARAMS {
    const char *cert_file;              /* comma or space separated */
    const char *key_file;
    const char *ca_file;
    const char *verify_client;          /* none, optional, require */
    const char *protocols;              /* TLSv1.2, TLSv1.3 */
    const char *ciphers;                /* empty: OpenSSL's */
    const char *alpn;                   /* h2,http/1.1 */
} TLS_PARAMS;

#define TLS_VERIFY_NONE		0
#define TLS_VERIFY_OPTIONAL	1
#define TLS_VERIFY_REQUIRE	2

#define TLS_CERT_MAX	16		/* certificates chosen by SNI */
#define TLS_ENV_MAX	4096		/* tls_env()'s output, at most */
#define TLS_ENV_VARS	11		/* and this many strings */
#define TLS_WARN_DAYS	14

typedef struct TLS_SERVER {
    SSL_CTX *ctx[TLS_CERT_MAX];         /* [0]: no SNI, or no match */
    X509   *cert[TLS_CERT_MAX];         /* each one's leaf */
    int     count;
    int     verify;                     /* TLS_VERIFY_* */
    unsigned char alpn[256];            /* wire format */
    unsigned alpn_len;
} TLS_SERVER;

extern TLS_SERVER *tls_open(const TLS_PARAMS *);
extern int tls_files_readable(const TLS_PARAMS *, char **);
extern SSL *tls_ssl_new(TLS_SERVER *);
extern size_t tls_env(SSL *, const TLS_SERVER *, char *, size_t);
extern const char *tls_reason(SSL *, int, char *, size_t);
extern void tls_free(TLS_SERVER *);

#endif
