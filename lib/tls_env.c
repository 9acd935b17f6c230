/*
 * tls_env.c - what a handler learns of a client's TLS (tls.h), and why a
 * handshake failed
 *
 * The names are mod_ssl's, which CGI authors know. What the client chose
 * (its SNI, the names in its certificate) is bounded and made printable
 * before it reaches an environment: a byte outside printable ASCII
 * becomes "?".
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "tls.h"

#define TLS_VALUE_MAX	1024		/* one value, at most */

typedef struct TLS_ENV_BUF {
    char   *buf;
    size_t  len;
    size_t  used;
    int     full;
} TLS_ENV_BUF;

/* tls_env_add - NAME=value and a null byte, the value made printable */
static void tls_env_add(TLS_ENV_BUF *eb, const char *name,
                                const char *value, size_t vlen)
{
    size_t  nlen = strlen(name);
    size_t  i;
    char   *out;

    if (vlen > TLS_VALUE_MAX)
        vlen = TLS_VALUE_MAX;
    if (eb->full || eb->used + nlen + 1 + vlen + 1 > eb->len) {
        eb->full = 1;
        return;
    }
    out = eb->buf + eb->used;
    memcpy(out, name, nlen);
    out[nlen] = '=';
    for (i = 0; i < vlen; i++)
        out[nlen + 1 + i] = value[i] >= 0x20 && value[i] < 0x7f ?
            value[i] : '?';
    out[nlen + 1 + vlen] = 0;
    eb->used += nlen + 1 + vlen + 1;
}

/* tls_env_str - a null-terminated value */
static void tls_env_str(TLS_ENV_BUF *eb, const char *name, const char *value)
{
    tls_env_add(eb, name, value, strlen(value));
}

/* tls_env_name - a distinguished name in RFC 2253 form */
static void tls_env_name(TLS_ENV_BUF *eb, const char *env_name,
                                 const X509_NAME *name)
{
    BIO    *bio = BIO_new(BIO_s_mem());
    char   *data;
    long    len;

    if (bio == 0)
        return;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0
        && (len = BIO_get_mem_data(bio, &data)) >= 0)
        tls_env_add(eb, env_name, data, (size_t) len);
    BIO_free(bio);
}

/* tls_env_hex - bytes in hex, upper or lower case */
static void tls_env_hex(TLS_ENV_BUF *eb, const char *name,
                                const unsigned char *data, size_t len,
                                int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char    hex[2 * 64 + 1];
    size_t  i;

    if (len > 64)
        len = 64;
    for (i = 0; i < len; i++) {
        hex[2 * i] = digits[data[i] >> 4];
        hex[2 * i + 1] = digits[data[i] & 15];
    }
    tls_env_add(eb, name, hex, 2 * len);
}

/* tls_env_cert - the client's certificate */
static void tls_env_cert(TLS_ENV_BUF *eb, SSL *ssl, X509 *cert)
{
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen;
    long    verdict = SSL_get_verify_result(ssl);
    char    text[200];

    if (verdict == X509_V_OK) {
        tls_env_str(eb, "SSL_CLIENT_VERIFY", "SUCCESS");
    } else {
        snprintf(text, sizeof(text), "FAILED:%s",
                 X509_verify_cert_error_string(verdict));
        tls_env_str(eb, "SSL_CLIENT_VERIFY", text);
    }
    tls_env_name(eb, "SSL_CLIENT_S_DN", X509_get_subject_name(cert));
    tls_env_name(eb, "SSL_CLIENT_I_DN", X509_get_issuer_name(cert));
    /* An INTEGER's content octets are its big-endian value. */
    if (serial && serial->length > 0)
        tls_env_hex(eb, "SSL_CLIENT_M_SERIAL", serial->data,
                    (size_t) serial->length, 1);
    if (X509_digest(cert, EVP_sha256(), md, &mdlen))
        tls_env_hex(eb, "SSL_CLIENT_CERT_SHA256", md, mdlen, 0);
}

/* tls_env - the handler's variables for a finished handshake */
size_t  tls_env(SSL *ssl, const TLS_SERVER *tls, char *buf, size_t len)
{
    TLS_ENV_BUF eb = {buf, len, 0, 0};
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const unsigned char *alpn;
    unsigned alpn_len;
    X509   *cert;

    tls_env_str(&eb, "HTTPS", "on");
    tls_env_str(&eb, "SSL_PROTOCOL", SSL_get_version(ssl));
    tls_env_str(&eb, "SSL_CIPHER", SSL_get_cipher_name(ssl));
    if (sni)
        tls_env_str(&eb, "SSL_TLS_SNI", sni);
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    if (alpn_len > 0)
        tls_env_add(&eb, "SSL_ALPN", (const char *) alpn, alpn_len);
    cert = tls->verify == TLS_VERIFY_NONE ? 0 : SSL_get0_peer_certificate(ssl);
    if (cert)
        tls_env_cert(&eb, ssl, cert);
    else
        tls_env_str(&eb, "SSL_CLIENT_VERIFY", "NONE");
    ERR_clear_error();
    return (eb.full ? 0 : eb.used);
}

/* tls_reason - why a handshake failed, in a few words */
const char *tls_reason(SSL *ssl, int ret, char *buf, size_t len)
{
    int     err = SSL_get_error(ssl, ret);
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : 0;

    if (err == SSL_ERROR_SSL && reason)
        snprintf(buf, len, "%s", reason);
    else if (err == SSL_ERROR_SYSCALL && errno != 0)
        snprintf(buf, len, "%s", strerror(errno));
    else
        snprintf(buf, len, "connection closed");
    ERR_clear_error();
    return (buf);
}
