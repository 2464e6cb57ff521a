/* Login throttling (see throttle.h). Layer: base (calls nothing of the server's above it). */
#include "throttle.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xalloc.h"

typedef struct entry {
    struct entry *next;
    uint64_t key;     /* throttle_key of the (name, address) pair */
    unsigned n, head; /* ring of the most recent failure times, oldest at head */
    int64_t times[];  /* `max` slots */
} entry;

struct mu_throttle {
    unsigned max;
    int64_t window_ms;
    size_t capacity, count, nbuckets;
    entry **buckets;
    throttle_tap_fn tap;
    void *tap_ud;
};

uint64_t throttle_key(const char *name, const mu_netaddr *a)
{
    /* A cryptographic hash, so that nobody can pick a name whose key is someone else's (and
     * fill that person's window); unkeyed, so that every node computes the same key. */
    crypto_generichash_state st;
    unsigned char out[8];
    crypto_generichash_init(&st, NULL, 0, sizeof(out));
    crypto_generichash_update(&st, (const unsigned char *)name, strlen(name) + 1);
    crypto_generichash_update(&st, a->b, sizeof(a->b));
    crypto_generichash_final(&st, out, sizeof(out));
    uint64_t k = 0;
    for (size_t i = 0; i < sizeof(out); i++)
        k = k << 8 | out[i];
    return k;
}

mu_throttle *throttle_new(unsigned max, int64_t window_ms, size_t capacity)
{
    mu_throttle *t = xcalloc(1, sizeof(*t));
    t->max = max;
    t->window_ms = window_ms;
    t->capacity = capacity;
    t->nbuckets = 1024;
    t->buckets = xcalloc(t->nbuckets, sizeof(entry *));
    return t;
}

void throttle_free(mu_throttle *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (entry *e = t->buckets[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    free(t->buckets);
    free(t);
}

void throttle_set_tap(mu_throttle *t, throttle_tap_fn fn, void *ud)
{
    t->tap = fn;
    t->tap_ud = ud;
}

static entry **find(mu_throttle *t, uint64_t key)
{
    entry **pp = &t->buckets[key % t->nbuckets];
    while (*pp && (*pp)->key != key)
        pp = &(*pp)->next;
    return pp;
}

static int64_t *slot(const mu_throttle *t, entry *e, unsigned k)
{
    return &e->times[(e->head + k) % t->max];
}

static int64_t newest(const mu_throttle *t, entry *e)
{
    return *slot(t, e, e->n - 1);
}

/* Drops entries with no failure left in the window; when none can go, the stalest one. */
static void make_room(mu_throttle *t, int64_t now_ms)
{
    entry **stalest = NULL;
    for (size_t i = 0; i < t->nbuckets; i++) {
        entry **pp = &t->buckets[i];
        while (*pp) {
            entry *e = *pp;
            if (now_ms - newest(t, e) >= t->window_ms) {
                *pp = e->next;
                free(e);
                t->count--;
                continue;
            }
            if (!stalest || newest(t, e) < newest(t, *stalest))
                stalest = pp;
            pp = &e->next;
        }
    }
    if (t->count >= t->capacity && stalest) {
        entry *e = *stalest;
        *stalest = e->next;
        free(e);
        t->count--;
    }
}

int64_t throttle_wait(mu_throttle *t, const char *name, const mu_netaddr *a, int64_t now_ms)
{
    entry *e = *find(t, throttle_key(name, a));
    if (!e || e->n < t->max)
        return 0;
    /* The ring is full: blocked while its oldest failure is still inside the window. */
    int64_t left = *slot(t, e, 0) + t->window_ms - now_ms;
    return left > 0 ? left : 0;
}

bool throttle_blocked(mu_throttle *t, const char *name, const mu_netaddr *a, int64_t now_ms)
{
    return throttle_wait(t, name, a, now_ms) > 0;
}

static void fail_key(mu_throttle *t, uint64_t key, int64_t at_ms)
{
    entry **pp = find(t, key);
    if (!*pp) {
        if (t->count >= t->capacity) {
            make_room(t, at_ms);
            pp = find(t, key);
        }
        /* Never dropped for want of memory: a failure that went unrecorded would be a free
         * guess at someone's password. */
        entry *e = xcalloc(1, sizeof(*e) + t->max * sizeof(int64_t));
        e->key = key;
        e->next = *pp;
        *pp = e;
        t->count++;
    }
    entry *e = *pp;
    if (e->n == t->max && at_ms <= *slot(t, e, 0))
        return;           /* older than every failure kept: it decides nothing */
    if (e->n == t->max) { /* the oldest goes */
        e->head = (e->head + 1) % t->max;
        e->n--;
    }
    /* Kept oldest first: another node's failure may arrive after a newer one of this node's. */
    unsigned k = e->n++;
    while (k > 0 && *slot(t, e, k - 1) > at_ms) {
        *slot(t, e, k) = *slot(t, e, k - 1);
        k--;
    }
    *slot(t, e, k) = at_ms;
}

static void clear_key(mu_throttle *t, uint64_t key)
{
    entry **pp = find(t, key);
    if (*pp) {
        entry *e = *pp;
        *pp = e->next;
        free(e);
        t->count--;
    }
}

static void unfail_key(mu_throttle *t, uint64_t key, int64_t at_ms)
{
    entry *e = *find(t, key);
    if (!e)
        return;
    /* Rebuild the ring without the newest entry recorded at `at_ms`. */
    for (unsigned k = e->n; k-- > 0;) {
        if (*slot(t, e, k) != at_ms)
            continue;
        for (unsigned j = k; j + 1 < e->n; j++)
            *slot(t, e, j) = *slot(t, e, j + 1);
        e->n--;
        break;
    }
    if (e->n == 0)
        clear_key(t, key);
}

void throttle_apply(mu_throttle *t, uint64_t key, throttle_change what, int64_t ms)
{
    switch (what) {
    case THROTTLE_FAIL: fail_key(t, key, ms); break;
    case THROTTLE_UNFAIL: unfail_key(t, key, ms); break;
    case THROTTLE_CLEAR: clear_key(t, key); break;
    }
}

static void change(mu_throttle *t, const char *name, const mu_netaddr *a, throttle_change what,
                   int64_t ms)
{
    uint64_t key = throttle_key(name, a);
    throttle_apply(t, key, what, ms);
    if (t->tap)
        t->tap(t->tap_ud, key, what, ms);
}

void throttle_fail(mu_throttle *t, const char *name, const mu_netaddr *a, int64_t now_ms)
{
    change(t, name, a, THROTTLE_FAIL, now_ms);
}

void throttle_unfail(mu_throttle *t, const char *name, const mu_netaddr *a, int64_t at_ms)
{
    change(t, name, a, THROTTLE_UNFAIL, at_ms);
}

void throttle_clear(mu_throttle *t, const char *name, const mu_netaddr *a)
{
    change(t, name, a, THROTTLE_CLEAR, 0);
}

size_t throttle_size(const mu_throttle *t)
{
    return t->count;
}
