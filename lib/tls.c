/*
 * tls.c - the TLS configuration (tls.h)
 *
 * One SSL_CTX per certificate, so that the SNI callback only has to
 * switch the connection to another context; every context gets the same
 * settings. Session tickets and the session cache are off: every
 * re-execution (max_use) would make new ticket keys, so a resumption
 * would rarely work, and a ticket costs each new session an encryption.
 */

#include "config.h"

#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mymalloc.h"
#include "param.h"
#include "single_server.h"
#include "tls.h"

/*
 * What tls_open() is making, kept where a leak check sees it: a bad file
 * ends the process (exit 100) from deep inside, and optimised code need
 * not keep a local alive across a call that does not return, so that
 * valgrind called the half-made TLS_SERVER lost.
 */
static struct {
    TLS_SERVER *tls;
    SSL_CTX *ctx;                       /* not yet in tls */
    char   *certs;                      /* tls_split()'s copies */
    char   *keys;
    char   *alpn;
} tls_opening;

/* tls_readable - a file we can read, or exit 100 naming it */
static void tls_readable(const char *param, const char *path)
{
    int     fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        ss_msg_usage("%s: %s: %m", param_where(param), path);
    (void) close(fd);
}

/* tls_ssl_error - OpenSSL's last error, as text */
static const char *tls_ssl_error(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : 0;

    snprintf(buf, len, "%s", reason ? reason : "unknown error");
    ERR_clear_error();
    return (buf);
}

/* tls_split - a comma or white space separated list, in place */
static int tls_split(char *list, char **item, int max, const char *param)
{
    char   *save = 0;
    char   *cp;
    int     n = 0;

    for (cp = strtok_r(list, ", \t\r\n", &save); cp;
         cp = strtok_r(0, ", \t\r\n", &save)) {
        if (n == max)
            ss_msg_usage("%s: more than %d files", param_where(param), max);
        item[n++] = cp;
    }
    return (n);
}

/* tls_dates - expired: exit 100; expiring soon: a warning */
static void tls_dates(X509 *cert, const char *path)
{
    time_t  soon = time(0) + TLS_WARN_DAYS * 86400L;

    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
        ss_msg_usage("%s: %s: the certificate has expired",
                     param_where("tls_cert_file"), path);
    if (X509_cmp_time(X509_get0_notAfter(cert), &soon) <= 0)
        ss_msg_warn("%s: %s: the certificate expires within %d days",
                    param_where("tls_cert_file"), path, TLS_WARN_DAYS);
}

/* tls_alpn_select - the first of our protocols the client offers */
static int tls_alpn_select(SSL *ssl, const unsigned char **out,
                                   unsigned char *outlen,
                                   const unsigned char *in, unsigned inlen,
                                   void *arg)
{
    TLS_SERVER *tls = arg;
    unsigned char *sel;

    (void) ssl;
    if (tls->alpn_len == 0)
        return (SSL_TLSEXT_ERR_NOACK);
    /* In our order of preference: the list we give comes first. */
    if (SSL_select_next_proto(&sel, outlen, tls->alpn, tls->alpn_len,
                              in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return (SSL_TLSEXT_ERR_ALERT_FATAL);    /* RFC 7301 */
    *out = sel;
    return (SSL_TLSEXT_ERR_OK);
}

/* tls_sni - the certificate whose names match the client's SNI */
static int tls_sni(SSL *ssl, int *alert, void *arg)
{
    TLS_SERVER *tls = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    int     i;

    (void) alert;
    if (name == 0 || tls->count < 2)
        return (SSL_TLSEXT_ERR_OK);
    for (i = 0; i < tls->count; i++)
        if (X509_check_host(tls->cert[i], name, 0, 0, 0) == 1) {
            if (i > 0)
                (void) SSL_set_SSL_CTX(ssl, tls->ctx[i]);
            break;
        }
    return (SSL_TLSEXT_ERR_OK);         /* no match: the first */
}

/* tls_verify_any - optional: the handshake goes on, the handler decides */
static int tls_verify_any(int ok, X509_STORE_CTX *store)
{
    (void) ok;
    (void) store;
    return (1);
}

/* tls_ctx_settings - what every context shares */
static void tls_ctx_settings(TLS_SERVER *tls, SSL_CTX *ctx,
                                     const TLS_PARAMS *p)
{
    char    err[120];
    int     floor = strcmp(p->protocols, "TLSv1.3") == 0 ?
        TLS1_3_VERSION : TLS1_2_VERSION;

    if (strcmp(p->protocols, "TLSv1.2") != 0 && floor != TLS1_3_VERSION)
        ss_msg_usage("%s: expected TLSv1.2 or TLSv1.3, not \"%s\"",
                     param_where("tls_protocols"), p->protocols);
    if (!SSL_CTX_set_min_proto_version(ctx, floor))
        ss_msg_fatal("SSL_CTX_set_min_proto_version: %s",
                     tls_ssl_error(err, sizeof(err)));
    if (*p->ciphers && !SSL_CTX_set_cipher_list(ctx, p->ciphers))
        ss_msg_usage("%s: \"%s\": %s", param_where("tls_ciphers"),
                     p->ciphers, tls_ssl_error(err, sizeof(err)));
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF
                        | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET
                        | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS
                     | SSL_MODE_ENABLE_PARTIAL_WRITE
                     | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    (void) SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_tlsext_servername_callback(ctx, tls_sni);
    SSL_CTX_set_tlsext_servername_arg(ctx, tls);
    if (tls->alpn_len)
        SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_select, tls);
    if (tls->verify == TLS_VERIFY_NONE)
        return;
    if (!SSL_CTX_load_verify_locations(ctx, p->ca_file, 0))
        ss_msg_usage("%s: %s: %s", param_where("tls_ca_file"), p->ca_file,
                     tls_ssl_error(err, sizeof(err)));
    SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(p->ca_file));
    ERR_clear_error();
    SSL_CTX_set_verify(ctx, tls->verify == TLS_VERIFY_REQUIRE ?
                       SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                       : SSL_VERIFY_PEER, tls->verify == TLS_VERIFY_REQUIRE ?
                       0 : tls_verify_any);
}

/* tls_cert_load - one certificate chain and its key in a new context */
static void tls_cert_load(TLS_SERVER *tls, const char *cert,
                                  const char *key, const TLS_PARAMS *p)
{
    SSL_CTX *ctx;
    char    err[120];
    int     i = tls->count;

    tls_readable("tls_cert_file", cert);
    tls_readable(*p->key_file ? "tls_key_file" : "tls_cert_file", key);
    if ((tls_opening.ctx = ctx = SSL_CTX_new(TLS_server_method())) == 0)
        ss_msg_fatal("SSL_CTX_new: %s", tls_ssl_error(err, sizeof(err)));
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        ss_msg_usage("%s: %s: %s", param_where("tls_cert_file"), cert,
                     tls_ssl_error(err, sizeof(err)));
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            ss_msg_usage("%s: %s: the key does not match the certificate %s",
                         param_where(*p->key_file ? "tls_key_file"
                                     : "tls_cert_file"), key, cert);
        if (*p->key_file == 0)
            ss_msg_usage("%s: %s: no private key in it (%s), and tls_key_file "
                         "is empty", param_where("tls_cert_file"), cert,
                         tls_ssl_error(err, sizeof(err)));
        ss_msg_usage("%s: %s: %s", param_where("tls_key_file"), key,
                     tls_ssl_error(err, sizeof(err)));
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
        ss_msg_usage("%s: %s: the key does not match the certificate %s",
                     param_where(*p->key_file ? "tls_key_file"
                                 : "tls_cert_file"), key, cert);
    tls->cert[i] = SSL_CTX_get0_certificate(ctx);
    tls_dates(tls->cert[i], cert);
    tls_ctx_settings(tls, ctx, p);
    tls->ctx[i] = ctx;
    tls->count++;
    tls_opening.ctx = 0;
}

/* tls_alpn_parse - "h2,http/1.1" in ALPN's wire format */
static void tls_alpn_parse(TLS_SERVER *tls, const char *list)
{
    char   *copy = tls_opening.alpn = mystrdup(list);
    char   *item[32];
    int     n = tls_split(copy, item, 32, "tls_alpn");
    size_t  len;
    int     i;

    for (i = 0; i < n; i++) {
        if ((len = strlen(item[i])) > 255
            || tls->alpn_len + 1 + len > sizeof(tls->alpn))
            ss_msg_usage("%s: too long", param_where("tls_alpn"));
        tls->alpn[tls->alpn_len++] = (unsigned char) len;
        memcpy(tls->alpn + tls->alpn_len, item[i], len);
        tls->alpn_len += (unsigned) len;
    }
    myfree(copy);
    tls_opening.alpn = 0;
}

/* tls_verify_mode - none, optional or require */
static int tls_verify_mode(const TLS_PARAMS *p)
{
    int     mode = TLS_VERIFY_REQUIRE;

    if (strcmp(p->verify_client, "none") == 0)
        return (TLS_VERIFY_NONE);
    if (strcmp(p->verify_client, "optional") == 0)
        mode = TLS_VERIFY_OPTIONAL;
    else if (strcmp(p->verify_client, "require") == 0)
        mode = TLS_VERIFY_REQUIRE;
    else
        ss_msg_usage("%s: expected none, optional or require, not \"%s\"",
                     param_where("tls_verify_client"), p->verify_client);
    if (*p->ca_file == 0)
        ss_msg_usage("%s: %s needs tls_ca_file",
                     param_where("tls_verify_client"), p->verify_client);
    tls_readable("tls_ca_file", p->ca_file);
    return (mode);
}

/* tls_open - read and check everything; null: TLS is off */
TLS_SERVER *tls_open(const TLS_PARAMS *p)
{
    TLS_SERVER *tls;
    char   *certs;
    char   *keys;
    char   *cert[TLS_CERT_MAX];
    char   *key[TLS_CERT_MAX];
    int     ncert;
    int     nkey;
    int     i;

    if (*p->cert_file == 0) {
        if (*p->key_file)
            ss_msg_usage("%s: set, but tls_cert_file is empty",
                         param_where("tls_key_file"));
        return (0);
    }
    tls = tls_opening.tls = mycalloc(1, sizeof(*tls));
    tls->verify = tls_verify_mode(p);
    if (*p->alpn)
        tls_alpn_parse(tls, p->alpn);
    certs = tls_opening.certs = mystrdup(p->cert_file);
    keys = tls_opening.keys = mystrdup(p->key_file);
    ncert = tls_split(certs, cert, TLS_CERT_MAX, "tls_cert_file");
    nkey = tls_split(keys, key, TLS_CERT_MAX, "tls_key_file");
    if (nkey > 0 && nkey != ncert)
        ss_msg_usage("%s: %d file(s) for %d certificate(s)",
                     param_where("tls_key_file"), nkey, ncert);
    for (i = 0; i < ncert; i++)
        tls_cert_load(tls, cert[i], nkey ? key[i] : cert[i], p);
    myfree(certs);
    myfree(keys);
    memset(&tls_opening, 0, sizeof(tls_opening));
    return (tls);
}

/*
 * tls_files_readable - can every file be opened now? 0, or -1 and what
 * could not (free it)
 */
int     tls_files_readable(const TLS_PARAMS *p, char **err)
{
    const char *list[3] = {p->cert_file, p->key_file, p->ca_file};
    const char *names[3] = {"tls_cert_file", "tls_key_file", "tls_ca_file"};
    char   *copy;
    char   *item[TLS_CERT_MAX];
    int     n;
    int     i;
    int     j;
    int     fd;

    for (i = 0; i < 3; i++) {
        copy = mystrdup(list[i]);
        n = tls_split(copy, item, TLS_CERT_MAX, names[i]);
        for (j = 0; j < n; j++) {
            if ((fd = open(item[j], O_RDONLY | O_CLOEXEC)) < 0) {
                *err = myasprintf("%s: %s: %s", param_where(names[i]),
                                  item[j], strerror(errno));
                myfree(copy);
                return (-1);
            }
            (void) close(fd);
        }
        myfree(copy);
    }
    return (0);
}

/* tls_ssl_new - one client's connection object */
SSL    *tls_ssl_new(TLS_SERVER *tls)
{
    return (SSL_new(tls->ctx[0]));
}

/* tls_free - every context */
void    tls_free(TLS_SERVER *tls)
{
    int     i;

    for (i = 0; i < tls->count; i++)
        SSL_CTX_free(tls->ctx[i]);
    myfree(tls);
}
