/* Events between nodes (see events.h). The payload is `NODE KIND A B C [WORD]`. */
#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_listen.h"
#include "log.h"

#define CHANNEL "mutual"
#define MAX_KINDS 16

static struct {
    char kind[16];
    event_fn fn;
    event_catch_up_fn catch_up;
} kinds[MAX_KINDS];
static unsigned nkinds;
static char node[17];
static int64_t node_id;
static db_listener *listener;
static bool on_pg;

void events_on(const char *kind, event_fn fn, event_catch_up_fn catch_up)
{
    for (unsigned i = 0; i < nkinds; i++)
        if (strcmp(kinds[i].kind, kind) == 0) {
            kinds[i].fn = fn; /* a second start in one process (tests) registers again */
            kinds[i].catch_up = catch_up;
            return;
        }
    if (nkinds == MAX_KINDS || strlen(kind) >= sizeof(kinds[0].kind))
        abort(); /* a programming error: raise MAX_KINDS or shorten the name */
    snprintf(kinds[nkinds].kind, sizeof(kinds[nkinds].kind), "%s", kind);
    kinds[nkinds].fn = fn;
    kinds[nkinds].catch_up = catch_up;
    nkinds++;
}

static bool word_ok(const char *w)
{
    size_t n = strlen(w);
    return n <= EVENTS_WORD_MAX && strspn(w, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* `NODE KIND A B C [WORD]`: two words, up to three integers, and a word after three. False
 * when it is not that. */
static bool parse(const char *p, char from[17], char kind[16], int64_t v[3],
                  char word[EVENTS_WORD_MAX + 1])
{
    word[0] = '\0';
    char *words[2] = {from, kind};
    size_t caps[2] = {17, 16};
    for (int w = 0; w < 2; w++) {
        size_t n = strcspn(p, " ");
        if (n == 0 || n >= caps[w] || p[n] != ' ')
            return false;
        memcpy(words[w], p, n);
        words[w][n] = '\0';
        p += n + 1;
    }
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        v[i] = strtoll(p, &end, 10);
        if (end == p || errno != 0 || (*end != ' ' && *end != '\0'))
            return false;
        p = *end ? end + 1 : end;
        if (!*end)
            return true;
    }
    if (!word_ok(p))
        return false;
    memcpy(word, p, strlen(p) + 1);
    return true;
}

static void on_notify(const char *payload, void *ud)
{
    (void)ud;
    char from[17], kind[16], word[EVENTS_WORD_MAX + 1];
    int64_t v[3] = {0, 0, 0};
    if (!parse(payload, from, kind, v, word)) {
        log_warn("an event that this node cannot read was ignored");
        return;
    }
    if (strcmp(from, node) == 0)
        return;
    for (unsigned i = 0; i < nkinds; i++)
        if (strcmp(kinds[i].kind, kind) == 0) {
            kinds[i].fn(v[0], v[1], v[2], word);
            return;
        }
    /* A newer node's kind: nothing here acts on it. */
}

static void on_up(bool again, void *ud)
{
    (void)ud;
    (void)again; /* the first time too: the node may serve people before it listens */
    for (unsigned i = 0; i < nkinds; i++)
        if (kinds[i].catch_up)
            kinds[i].catch_up();
}

void events_start(mu_server *s)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[8];
    randombytes_buf(r, sizeof(r));
    for (size_t i = 0; i < sizeof(r); i++) {
        node[2 * i] = hex[r[i] >> 4];
        node[2 * i + 1] = hex[r[i] & 15];
    }
    node[16] = '\0';
    uint64_t id = 0;
    for (size_t i = 0; i < sizeof(r); i++)
        id = id << 8 | r[i];
    node_id = (int64_t)id;
    on_pg = db_is_url(s->cfg.db);
    if (on_pg)
        listener = db_listen(s->loop, s->cfg.db, CHANNEL, on_notify, on_up, NULL);
}

void events_stop(void)
{
    db_listener_close(listener);
    listener = NULL;
}

bool events_shared(void)
{
    return on_pg;
}

bool events_listening(void)
{
    return !on_pg || db_listener_up(listener);
}

bool events_shown_before(events_shown *s, int64_t id)
{
    for (unsigned i = 0; i < EVENTS_SHOWN; i++)
        if (s->ring[i] == id)
            return true;
    s->ring[s->pos] = id;
    s->pos = (s->pos + 1) % EVENTS_SHOWN;
    if (id > s->max)
        s->max = id;
    return false;
}

void events_shown_init(events_shown *s, int64_t max)
{
    memset(s, 0, sizeof(*s));
    s->max = s->start = max > 0 ? max : 0;
}

int64_t events_catch_up_after(const events_shown *s)
{
    /* Never below the ids present at start: those the ring does not know, and people see
     * them at sign-in. */
    int64_t after = s->max > EVENTS_CATCH_UP_WINDOW ? s->max - EVENTS_CATCH_UP_WINDOW : 0;
    return after < s->start ? s->start : after;
}

const char *events_node(void)
{
    return node;
}

int64_t events_node_id(void)
{
    return node_id;
}

mu_code events_publish_word(mu_wtx *w, const char *kind, const char *word, int64_t a, int64_t b,
                            int64_t c)
{
    if (!word_ok(word))
        return MU_E_INTERNAL; /* a programming error: the other nodes could not read it */
    char payload[192];
    snprintf(payload, sizeof(payload), "%s %s %" PRId64 " %" PRId64 " %" PRId64 "%s%s", node, kind,
             a, b, c, word[0] ? " " : "", word);
    return store_notify(w, CHANNEL, payload);
}

mu_code events_publish(mu_wtx *w, const char *kind, int64_t a, int64_t b, int64_t c)
{
    return events_publish_word(w, kind, "", a, b, c);
}
