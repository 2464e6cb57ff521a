/* Login throttling (see throttle.h). Layer: base (calls nothing of the server's above it). */
#include "throttle.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "xalloc.h"

typedef struct entry {
    struct entry *next;
    char handle[MU_HANDLE_MAX + 1];
    unsigned n, head;  /* ring of the most recent failure times, oldest at head */
    int64_t times[];   /* `max` slots */
} entry;

struct mu_throttle {
    unsigned max;
    int64_t window_ms;
    size_t capacity, count, nbuckets;
    entry **buckets;
};

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
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

static entry **find(mu_throttle *t, const char *handle)
{
    entry **pp = &t->buckets[hash(handle) % t->nbuckets];
    while (*pp && strcmp((*pp)->handle, handle) != 0)
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

bool throttle_blocked(mu_throttle *t, const char *handle, int64_t now_ms)
{
    entry *e = *find(t, handle);
    if (!e || e->n < t->max)
        return false;
    /* The ring is full: blocked while its oldest failure is still inside the window. */
    return now_ms - e->times[e->head] < t->window_ms;
}

void throttle_fail(mu_throttle *t, const char *handle, int64_t now_ms)
{
    entry **pp = find(t, handle);
    if (!*pp) {
        if (t->count >= t->capacity) {
            make_room(t, now_ms);
            pp = find(t, handle);
        }
        /* Never dropped for want of memory: a failure that went unrecorded would be a free
         * guess at someone's password. */
        entry *e = xcalloc(1, sizeof(*e) + t->max * sizeof(int64_t));
        strncpy(e->handle, handle, MU_HANDLE_MAX);
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

void throttle_clear(mu_throttle *t, const char *handle)
{
    entry **pp = find(t, handle);
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
