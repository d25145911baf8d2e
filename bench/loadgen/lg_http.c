#define _GNU_SOURCE /* memmem */
/* lg_http.c: a minimal HTTP/1.1 client for the admin API (one request per connection, no
 * TLS): the generator talks only to a bridge on loopback, and a libcurl dependency would buy
 * nothing here. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "lg.h"

/* RFC 9112 7.1 chunked body (Janus's HTTP transport sends these): decoded into out (which
 * has room for len bytes); the decoded length, -EAGAIN when the last chunk has not arrived,
 * -EINVAL on a malformed size line. Chunk extensions and trailers are skipped. */
static ssize_t dechunk(const char *p, size_t len, char *out)
{
	size_t i = 0, n = 0;
	for (;;) {
		const char *nl = memchr(p + i, '\n', len - i);
		if (!nl)
			return -EAGAIN;
		char *end;
		unsigned long sz = strtoul(p + i, &end, 16);
		if (end == p + i)
			return -EINVAL;
		i = (size_t)(nl - p) + 1;
		if (sz == 0)
			return (ssize_t)n;    /* trailers, if any, are not needed */
		if (sz > len - i || len - i - sz < 2)
			return -EAGAIN;
		if (out)
			memcpy(out + n, p + i, sz);
		n += sz;
		i += sz + 2;           /* data, CRLF */
	}
}

int lg_http_parse(struct lg_http_resp *r, const char *buf, size_t len, bool complete)
{
	const char *end = NULL;
	for (size_t i = 0; i + 3 < len; i++) {
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			end = buf + i;
			break;
		}
	}
	if (!end)
		return complete ? -EINVAL : -EAGAIN;
	int status;
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || sscanf(buf + 9, "%3d", &status) != 1 ||
	    status < 100 || status > 599)
		return -EINVAL;
	size_t hdr = (size_t)(end - buf) + 4, body = len - hdr;
	long clen = -1;
	bool chunked = false;
	for (const char *p = buf; p && p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		p = nl + 1;
		if ((size_t)(end - p) > 15 && !strncasecmp(p, "Content-Length:", 15))
			clen = strtol(p + 15, NULL, 10);
		if ((size_t)(end - p) > 18 && !strncasecmp(p, "Transfer-Encoding:", 18)) {
			const char *le = memchr(p, '\n', (size_t)(end - p));
			chunked = memmem(p, (size_t)((le ? le : end) - p), "chunked", 7) != NULL;
		}
	}
	if (chunked) {
		ssize_t dn = dechunk(buf + hdr, body, NULL);
		if (dn == -EAGAIN)
			return complete ? -EINVAL : -EAGAIN;
		if (dn < 0)
			return -EINVAL;
		r->body = malloc((size_t)dn + 1);
		if (!r->body)
			return -ENOMEM;
		dechunk(buf + hdr, body, r->body);
		r->body[dn] = 0;
		r->body_len = (size_t)dn;
		r->status = status;
		return 0;
	}
	if (clen >= 0) {
		if ((size_t)clen > body)
			return complete ? -EINVAL : -EAGAIN;
		body = (size_t)clen;
	} else if (!complete) {
		return -EAGAIN;
	}
	r->status = status;
	r->body = malloc(body + 1);
	if (!r->body)
		return -ENOMEM;
	memcpy(r->body, buf + hdr, body);
	r->body[body] = 0;
	r->body_len = body;
	return 0;
}

static int url_split(const char *url, char *host, size_t hcap, char *port, size_t pcap)
{
	if (strncmp(url, "http://", 7) != 0)
		return -EINVAL;
	const char *h = url + 7, *slash = strchr(h, '/');
	size_t n = slash ? (size_t)(slash - h) : strlen(h);
	const char *colon = memchr(h, ':', n);
	if (h[0] == '[') {         /* [::1]:8080 */
		const char *rb = memchr(h, ']', n);
		if (!rb)
			return -EINVAL;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		snprintf(host, hcap, "%.*s", (int)(rb - h - 1), h + 1);
	} else {
		snprintf(host, hcap, "%.*s", (int)(colon ? (size_t)(colon - h) : n), h);
	}
	snprintf(port, pcap, "%.*s", colon ? (int)(h + n - colon - 1) : 2,
		 colon ? colon + 1 : "80");
	return 0;
}

int lg_http_request(const char *url, const char *token, const char *method, const char *path,
		    const char *body, struct lg_http_resp *r)
{
	char host[256], port[16];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int fd = -1, err;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (url_split(url, host, sizeof host, port, sizeof port))
		return -EINVAL;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	err = -errno;
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		err = -errno;
		goto out;
	}
	size_t blen = body ? strlen(body) : 0;
	char head[1024];
	int hn = snprintf(head, sizeof head,
			  "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
			  "%s%s%s"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			  method, path, host, port, token ? "Authorization: Bearer " : "",
			  token ? token : "", token ? "\r\n" : "", blen);
	if (hn < 0 || (size_t)hn >= sizeof head) {
		err = -EINVAL;
		goto out;
	}
	if (write(fd, head, (size_t)hn) != hn || (blen && write(fd, body, blen) != (ssize_t)blen)) {
		err = -EIO;
		goto out;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 16384);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap += 16384;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			err = -errno;
			goto out;
		}
		len += (size_t)n;
		err = lg_http_parse(r, buf, len, n == 0);
		if (err != -EAGAIN)
			break;
	}
out:
	if (ai)
		freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}
