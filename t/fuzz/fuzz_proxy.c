/*
 * fuzz_proxy.c - libFuzzer target for the PROXY protocol header parser
 *
 * Build and run from the top of a configured tree (config.h present):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ilib \
 *	    t/fuzz/fuzz_proxy.c lib/proxy.c -o fuzz_proxy
 *	mkdir -p corpus && ./fuzz_proxy -max_total_time=60 corpus
 *
 * Any bytes go to proxy_parse(), whole and as every prefix of them (the
 * first FUZZ_PREFIXES, to keep a run fast), and again with bytes after
 * them. The answers must agree as bytes arrive: a prefix says "more"
 * until the header is complete, and then every longer one says the same
 * length with the same header; a refusal stays a refusal. What a header
 * says is checked against what proxy.h promises, and so is proxy_need():
 * while more is needed, it asks for more than there is, and never for
 * less than a whole header.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

#define FUZZ_PREFIXES   300
#define FUZZ_TAIL       "\r\n\r\n\0\r\nQUIT\nPROXY "

/* fuzz_header - a header that proxy_parse() accepted keeps its promises */
static void fuzz_header(const PROXY_HEADER *hdr, int ret)
{
    const struct sockaddr_storage *ss[2] = {&hdr->src, &hdr->dst};
    const socklen_t lens[2] = {hdr->src_len, hdr->dst_len};
    int     i;

    if (hdr->version != 1 && hdr->version != 2)
        abort();
    if (hdr->version == 1 && (ret < 15 || ret > PROXY_V1_MAX))
        abort();
    if (hdr->version == 2 && (ret < 16 || ret > PROXY_V2_MAX))
        abort();
    if (hdr->local)
        return;
    for (i = 0; i < 2; i++)
        if (!(ss[i]->ss_family == AF_INET
              && lens[i] == sizeof(struct sockaddr_in))
            && !(ss[i]->ss_family == AF_INET6
                 && lens[i] == sizeof(struct sockaddr_in6)))
            abort();
    if (hdr->src.ss_family != hdr->dst.ss_family)
        abort();
}

/* fuzz_prefixes - the answers agree as the bytes arrive */
static void fuzz_prefixes(const uint8_t *data, size_t size, int ret,
                                  const PROXY_HEADER *full)
{
    PROXY_HEADER hdr;
    const char *why;
    size_t  n;
    int     r;
    int     last = 0;

    for (n = 0; n <= size && n <= FUZZ_PREFIXES; n++) {
        why = 0;
        r = proxy_parse(data, n, &hdr, &why);
        if ((r == -1) != (why != 0) || r < -1 || r > (int) n)
            abort();
        if ((last == -1 && r != -1) || (last > 0 && r != last))
            abort();
        if (ret > 0 && r != ((int) n < ret ? 0 : ret))
            abort();
        if (r > 0 && memcmp(&hdr, full, sizeof(hdr)) != 0)
            abort();
        if (ret <= 0 && r > 0)
            abort();
        /* A reader that looks at proxy_need() bytes gets further. */
        if (r == 0 && proxy_need(data, n) <= n)
            abort();
        last = r;
    }
}

/* fuzz_tail - the same bytes, followed by more */
static void fuzz_tail(const uint8_t *data, size_t size, int ret,
                              const PROXY_HEADER *full)
{
    uint8_t *copy = malloc(size + sizeof(FUZZ_TAIL));
    PROXY_HEADER hdr;
    const char *why = 0;
    int     r;

    if (copy == 0)
        abort();
    memcpy(copy, data, size);
    memcpy(copy + size, FUZZ_TAIL, sizeof(FUZZ_TAIL));
    r = proxy_parse(copy, size + sizeof(FUZZ_TAIL), &hdr, &why);
    free(copy);
    if (ret != 0 && r != ret)
        abort();
    if (ret > 0 && memcmp(&hdr, full, sizeof(hdr)) != 0)
        abort();
    if (ret == 0 && r > 0 && (size_t) r <= size)
        abort();
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    PROXY_HEADER hdr;
    const char *why = 0;
    int     ret = proxy_parse(data, size, &hdr, &why);

    if ((ret == -1) != (why != 0) || ret < -1 || ret > (int) size)
        abort();
    if (ret > 0)
        fuzz_header(&hdr, ret);
    if (ret > 0 && proxy_need(data, (size_t) ret) < (size_t) ret)
        abort();
    fuzz_prefixes(data, size, ret, &hdr);
    fuzz_tail(data, size, ret, &hdr);
    return (0);
}
