/* Login throttling (see throttle.h). Layer: base (calls nothing of the server's above it). */
#include "throttle.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "xalloc.h"

typedef struct entry {
    struct entry *next;
    char handle[MU_HANDLE_MAX + 1];
    mu_netaddr addr;
    unsigned n, head; /* ring of the most recent failure times, oldest at head */
    int64_t times[];  /* `max` slots */
} entry;

struct mu_throttle {
    unsigned max;
    int64_t window_ms;
    size_t capacity, count, nbuckets;
    entry **buckets;
};

static size_t hash(const char *s, const mu_netaddr *a)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ a->b[i]) * 1099511628211ull;
    return h;
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

static entry **find(mu_throttle *t, const char *handle, const mu_netaddr *a)
{
    entry **pp = &t->buckets[hash(handle, a) % t->nbuckets];
    while (*pp && (strcmp((*pp)->handle, handle) != 0 || !netaddr_equal(&(*pp)->addr, a)))
        pp = &(*pp)->next;
    return pp;
}

static int64_t newest(const mu_throttle *t, const entry *e)
{
    return e->times[(e->head + e->n - 1) % t->max];
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

int64_t throttle_wait(mu_throttle *t, const char *handle, const mu_netaddr *a, int64_t now_ms)
{
    entry *e = *find(t, handle, a);
    if (!e || e->n < t->max)
        return 0;
    /* The ring is full: blocked while its oldest failure is still inside the window. */
    int64_t left = e->times[e->head] + t->window_ms - now_ms;
    return left > 0 ? left : 0;
}

bool throttle_blocked(mu_throttle *t, const char *handle, const mu_netaddr *a, int64_t now_ms)
{
    return throttle_wait(t, handle, a, now_ms) > 0;
}

void throttle_fail(mu_throttle *t, const char *handle, const mu_netaddr *a, int64_t now_ms)
{
    entry **pp = find(t, handle, a);
    if (!*pp) {
        if (t->count >= t->capacity) {
            make_room(t, now_ms);
            pp = find(t, handle, a);
        }
        /* Never dropped for want of memory: a failure that went unrecorded would be a free
         * guess at someone's password. */
        entry *e = xcalloc(1, sizeof(*e) + t->max * sizeof(int64_t));
        strncpy(e->handle, handle, MU_HANDLE_MAX);
        e->addr = *a;
        e->next = *pp;
        *pp = e;
        t->count++;
    }
    entry *e = *pp;
    if (e->n < t->max) {
        e->times[(e->head + e->n) % t->max] = now_ms;
        e->n++;
    } else {
        e->times[e->head] = now_ms;
        e->head = (e->head + 1) % t->max;
    }
}

void throttle_unfail(mu_throttle *t, const char *handle, const mu_netaddr *a, int64_t at_ms)
{
    entry *e = *find(t, handle, a);
    if (!e)
        return;
    /* Rebuild the ring without the newest entry recorded at `at_ms`. */
    for (unsigned k = e->n; k-- > 0;) {
        if (e->times[(e->head + k) % t->max] != at_ms)
            continue;
        for (unsigned j = k; j + 1 < e->n; j++)
            e->times[(e->head + j) % t->max] = e->times[(e->head + j + 1) % t->max];
        e->n--;
        break;
    }
    if (e->n == 0)
        throttle_clear(t, handle, a);
}

void throttle_clear(mu_throttle *t, const char *handle, const mu_netaddr *a)
{
    entry **pp = find(t, handle, a);
    if (*pp) {
        entry *e = *pp;
        *pp = e->next;
        free(e);
        t->count--;
    }
}

size_t throttle_size(const mu_throttle *t)
{
    return t->count;
}
