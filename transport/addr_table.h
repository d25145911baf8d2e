/* addr_table.h: UDP source address -> pointer, for demultiplexing a shared port (udp_mux.c).
 * Open addressing with the keys inline: one lookup per datagram touches one or two cache
 * lines, where a GHashTable touched four (its hash, key and value arrays and the key's
 * owner). Private to transport/. Threading: the owner's thread only; not thread-safe.
 * Ownership: the table owns its slots, never the pointers it maps to. */
#ifndef TT_ADDR_TABLE_H
#define TT_ADDR_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address as the table keeps it: IPv4 or IPv6 address and port, the rest zero, so two
 * keys compare as bytes. The IPv6 scope id is not part of it (tt__sockaddr_same agrees). */
struct tt__addr_key {
	uint16_t family;
	uint16_t port;          /* network order */
	uint32_t zero;
	uint8_t ip[16];         /* IPv4 in the first four bytes */
};

struct tt__addr_table {
	struct tt__addr_slot *slot;
	size_t cap;             /* a power of two, or 0 before the first insert */
	size_t n;
};

/* false for a family other than AF_INET/AF_INET6 (which no table holds) */
bool tt__addr_key_of(struct tt__addr_key *k, const struct sockaddr_storage *ss);
void *tt__addr_table_get(const struct tt__addr_table *t, const struct tt__addr_key *k);
/* 0, -EEXIST when k is there already, -ENOMEM; val must not be NULL. */
int tt__addr_table_put(struct tt__addr_table *t, const struct tt__addr_key *k, void *val);
/* The value that was there, or NULL. */
void *tt__addr_table_del(struct tt__addr_table *t, const struct tt__addr_key *k);
void tt__addr_table_fini(struct tt__addr_table *t);

#endif
