/* addr.c: "host:port" <-> sockaddr for the transport's users (the API's remote/local). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tutti/transport.h"

int tt_sockaddr_parse(struct sockaddr_storage *ss, socklen_t *len, const char *hostport)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	size_t hl;

	if (!ss || !len || !hostport)
		return -EINVAL;
	if (hostport[0] == '[') {
		const char *rb = strchr(hostport, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		hl = (size_t)(rb - hostport - 1);
		if (hl >= sizeof host)
			return -EINVAL;
		memcpy(host, hostport + 1, hl);
		port = rb + 2;
	} else {
		const char *colon = strrchr(hostport, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - hostport);
		if (hl >= sizeof host || memchr(hostport, ':', hl))
			return -EINVAL;
		memcpy(host, hostport, hl);
		port = colon + 1;
	}
	host[hl] = 0;
	size_t pl = strlen(port);
	if (pl == 0 || pl > 5 || strspn(port, "0123456789") != pl)
		return -EINVAL;
	long p = strtol(port, NULL, 10);
	if (p < 1 || p > 65535)
		return -EINVAL;
	struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)p)};
	if (hostport[0] != '[' && inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
		memset(ss, 0, sizeof *ss);
		memcpy(ss, &v4, sizeof v4);
		*len = sizeof v4;
		return 0;
	}
	if (hostport[0] == '[' && inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
		memset(ss, 0, sizeof *ss);
		memcpy(ss, &v6, sizeof v6);
		*len = sizeof v6;
		return 0;
	}
	return -EINVAL;
}

int tt_sockaddr_format(char *buf, size_t cap, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN];
	int n;
	if (!buf || !sa)
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
		n = snprintf(buf, cap, "%s:%u", host, ntohs(a->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
		n = snprintf(buf, cap, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}
