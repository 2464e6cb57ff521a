/* Network addresses as the limits see them: IPv4 and IPv6 in one 16-byte form (IPv4 as
 * ::ffff:a.b.c.d), lists of addresses and prefixes from the settings, and the key under which
 * per-address limits count (an IPv6 address counts by its /64, since one subscriber is
 * usually handed a whole /64). Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_NETADDR_H
#define MUTUAL_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

typedef struct {
    uint8_t b[16];
} mu_netaddr;

/* Longest text netaddr_format writes, with its NUL. */
#define NETADDR_TEXT 48

/* Parses "192.0.2.1" or "2001:db8::1" (surrounding spaces allowed). 0 on success. */
int netaddr_parse(const char *s, size_t n, mu_netaddr *out);
/* From a socket address (AF_INET or AF_INET6). 0 on success. */
int netaddr_from_sockaddr(const struct sockaddr *sa, mu_netaddr *out);
void netaddr_format(const mu_netaddr *a, char *buf, size_t cap);
bool netaddr_is_v4(const mu_netaddr *a);
bool netaddr_equal(const mu_netaddr *a, const mu_netaddr *b);
/* The address per-address limits count under: itself for IPv4, its /64 for IPv6. */
mu_netaddr netaddr_limit_key(const mu_netaddr *a);
/* The last address of an X-Forwarded-For value ("a, b, c" gives c). 0 on success. */
int netaddr_last_forwarded(const char *xff, mu_netaddr *out);

/* A list of addresses and prefixes ("127.0.0.0/8, ::1"), as the settings give it. */
typedef struct {
    struct netlist_entry {
        mu_netaddr addr;
        unsigned bits; /* prefix length over the 16-byte form */
    } * v;
    size_t n;
} mu_netlist;

/* Parses a comma- or space-separated list; an empty text is an empty list. On failure returns
 * -1 with the offending item in err. */
int netlist_parse(mu_netlist *l, const char *text, char *err, size_t errlen);
bool netlist_has(const mu_netlist *l, const mu_netaddr *a);
void netlist_free(mu_netlist *l);

#endif
