/* Writes the seed corpora of the fuzz targets: a valid request for every op in the op table
 * (with only its required fields, and with all of them), the same as whole conversations for
 * the dispatcher, typical server messages for the client, and configuration files.
 *
 *   gen_corpus OUTDIR [mutual.conf [DICT]]
 *
 * DICT gets a libFuzzer dictionary: every op, field and enum value as a MessagePack string.
 *
 * Run by hand when the op table changes (tests/fuzz/run.sh --seeds); its output is committed,
 * so that the corpora stay reviewable and every op keeps a seed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto.h"

static const char *outdir;

static void mkdir_p(const char *sub)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", outdir, sub);
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
        exit(1);
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_corpus: cannot create %s\n", p);
        exit(1);
    }
}

static void put(const char *sub, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "gen_corpus: cannot write %s\n", path);
        exit(1);
    }
}

/* ---- valid values for the table's field types ------------------------------------------- */

/* The handle a conversation's step names (see conv_op); NULL: the member. */
static const char *peer;

static const char *handle_for(const char *field)
{
    return !strcmp(field, "mentor") ? "fmentor" : peer ? peer : "fmember";
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void enc_slot(mu_enc *e)
{
    mu_enc_map(e, 2);
    mu_enc_kint(e, "day", 2);
    mu_enc_kstr(e, "time", "19:00");
}

static void enc_scalar(mu_enc *e, const char *name, mu_type t, int64_t lo, int64_t hi,
                       const char *const *values, bool limit_from_settings)
{
    switch (t) {
    case MU_T_STR:
        if (!strcmp(name, "password") || !strcmp(name, "old") || !strcmp(name, "new"))
            mu_enc_str(e, "fuzz password");
        else if (!strcmp(name, "token"))
            mu_enc_str(e, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        else if (limit_from_settings)
            mu_enc_str(e, "hello there");
        else {
            char s[64] = "sleep";
            size_t n = (size_t)clamp(5, lo, hi < 63 ? hi : 63);
            memset(s, 'a', n);
            s[n] = 0;
            mu_enc_str(e, n ? (n == 5 ? "sleep" : s) : "");
        }
        break;
    case MU_T_HANDLE: mu_enc_str(e, handle_for(name)); break;
    case MU_T_SLUG: mu_enc_str(e, "fuzz-room"); break;
    case MU_T_DATE: mu_enc_str(e, "2026-12-01"); break;
    case MU_T_ENUM: mu_enc_str(e, values[0]); break;
    case MU_T_UINT: mu_enc_uint(e, (uint64_t)clamp(!strcmp(name, "days") ? 7 : 1, lo, hi)); break;
    case MU_T_INT: mu_enc_int(e, clamp(5, lo, hi)); break;
    case MU_T_BOOL: mu_enc_bool(e, true); break;
    case MU_T_ANY: enc_slot(e); break;
    case MU_T_ARRAY: mu_enc_nil(e); break; /* not an element type */
    }
}

static void enc_field(mu_enc *e, const mu_field *f)
{
    mu_enc_key(e, f->name);
    if (f->type != MU_T_ARRAY) {
        enc_scalar(e, f->name, f->type, f->min, f->max, f->values, f->max_src != MU_LIM_FIXED);
        return;
    }
    uint32_t n = (uint32_t)clamp(1, f->min, f->max);
    mu_enc_array(e, n);
    for (uint32_t i = 0; i < n; i++)
        enc_scalar(e, f->name, f->elem, f->emin, f->emax, f->values, false);
}

/* One request of `op`; with `all`, its optional fields too. Returns the encoder's payload. */
static const char *enc_request(mu_enc *e, const mu_op *op, uint64_t rid, bool all, size_t *len)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < op->nfields; i++)
        n += all || op->fields[i].required;
    mu_enc_init(e, 0);
    mu_enc_request(e, op->name, rid, n);
    for (unsigned i = 0; i < op->nfields; i++)
        if (all || op->fields[i].required)
            enc_field(e, &op->fields[i]);
    return mu_enc_payload(e, len);
}

/* ---- the dispatcher's conversations ----------------------------------------------------- */

typedef struct {
    unsigned char *p;
    size_t n, cap;
} conv;

static void conv_add(conv *c, const void *frame, size_t n)
{
    if (c->n + n + 2 > c->cap) {
        c->cap = (c->n + n + 2) * 2;
        c->p = realloc(c->p, c->cap);
        if (!c->p)
            exit(1);
    }
    c->p[c->n++] = (unsigned char)(n >> 8);
    c->p[c->n++] = (unsigned char)n;
    memcpy(c->p + c->n, frame, n);
    c->n += n;
}

/* One step: "[B:]op[@handle]": on the second connection with "B:", and naming `handle` in its
 * handle fields with "@handle". */
static void conv_op(conv *c, const char *step, bool all)
{
    bool second = !strncmp(step, "B:", 2);
    char name[64];
    snprintf(name, sizeof(name), "%s", step + (second ? 2 : 0));
    char *at = strchr(name, '@');
    peer = at ? at + 1 : NULL;
    if (at)
        *at = 0;
    const mu_op *op = mu_op_by_name(name, strlen(name));
    if (!op) {
        fprintf(stderr, "gen_corpus: no op %s\n", name);
        exit(1);
    }
    mu_enc e;
    size_t n;
    const char *p = enc_request(&e, op, c->n + 1, all, &n);
    conv_add(c, p, n);
    if (second)
        c->p[c->n - n - 2] |= 0x80;
    mu_enc_free(&e);
    peer = NULL;
}

/* Who the connections are: the first byte of a dispatcher input (see fuzz_dispatch.c); the
 * second connection's is shifted by B_SHIFT (its family bit is 0x40). */
enum { AS_NOBODY = 0, AS_MEMBER = 1, AS_MENTOR = 2, AS_ADMIN = 3, AS_FAMILY = 1 | 8 };
#define B_SHIFT 4
#define B_FAMILY (AS_MEMBER << B_SHIFT | 0x40)

static void conversation(const char *name, unsigned who, const char *const *ops)
{
    conv c = {0};
    unsigned char b = (unsigned char)who;
    c.p = malloc(1);
    c.cap = 1;
    c.p[c.n++] = b;
    for (unsigned i = 0; ops[i]; i++)
        conv_op(&c, ops[i], true);
    put("dispatch", name, c.p, c.n);
    free(c.p);
}

static void dispatch_seeds(void)
{
    /* Every op on its own, as each kind of caller, with all fields. */
    static const struct {
        unsigned who;
        const char *tag;
    } callers[] = {{AS_NOBODY, "nobody"},
                   {AS_MEMBER, "member"},
                   {AS_MENTOR, "mentor"},
                   {AS_ADMIN, "admin"},
                   {AS_FAMILY, "family"}};
    for (unsigned i = 0; i < MU_OP__COUNT; i++) {
        const mu_op *op = mu_op_by_id((mu_op_id)i);
        if (op->flags & MU_OPF_EVENT)
            continue;
        for (unsigned k = 0; k < sizeof(callers) / sizeof(callers[0]); k++) {
            /* Hashing ops are slow to fuzz; one caller each is enough. */
            bool hashes = !strcmp(op->name, "login") || !strcmp(op->name, "register") ||
                          !strcmp(op->name, "password.set") || !strcmp(op->name, "me.delete") ||
                          !strcmp(op->name, "user.create");
            if (hashes && k != (op->flags & MU_OPF_PREAUTH ? 0u : 3u))
                continue;
            if (!strcmp(op->name, "me.delete"))
                continue; /* would erase a fuzzing identity for every later input */
            char name[96];
            snprintf(name, sizeof(name), "%s-%s", op->name, callers[k].tag);
            conversation(name, callers[k].who, (const char *const[]){op->name, NULL});
        }
    }
    /* Conversations that reach deeper states. */
    conversation("meeting-admin", AS_ADMIN,
                 (const char *const[]){"room.create", "room.open", "room.join", "room.say",
                                       "room.history", "hand.raise", "room.leave", "room.close",
                                       NULL});
    conversation("checkins-member", AS_MEMBER,
                 (const char *const[]){"consent.set", "checkin.submit", "checkin.list",
                                       "checkin.summary", "mentor.get", "help", NULL});
    conversation("dm-member", AS_MEMBER,
                 (const char *const[]){"dm.send", "dm.inbox", "dm.history", "dm.ack", NULL});
    conversation(
        "caseload-mentor", AS_MENTOR,
        (const char *const[]){"mentees.list", "mentee.checkins", "alerts.list", "dm.send", NULL});
    /* Two connections: what one does reaches the other. */
    conversation("meeting-two", AS_ADMIN | AS_MEMBER << B_SHIFT,
                 (const char *const[]){"room.create", "room.open", "room.join", "B:room.join",
                                       "B:room.say", "room.say", "B:hand.raise", "room.give",
                                       "room.mute", "B:room.say", "room.unmute", "room.remove",
                                       "B:room.join", "room.close", NULL});
    conversation("lobby-two", AS_MENTOR | B_FAMILY,
                 (const char *const[]){"room.create", "room.open", "room.lobby", "B:room.join",
                                       "room.admit@ffamily", "B:room.say", "room.lock",
                                       "room.floor", NULL});
    conversation("dm-two", AS_MENTOR | AS_MEMBER << B_SHIFT,
                 (const char *const[]){"dm.send", "B:dm.send@fmentor", "B:dm.ack@fmentor",
                                       "dm.inbox", "B:consent.set", "B:checkin.submit",
                                       "mentee.checkins", "alerts.list", NULL});
    conversation("signin-nobody", AS_NOBODY,
                 (const char *const[]){"ping", "help", "login", "rooms.list", NULL});
}

/* ---- the client's inputs: what servers send --------------------------------------------- */

/* Chunks of fuzz_client_ws: [flags][16-bit length][payload]; flags 0x02 a final binary frame. */
static size_t ws_chunk(unsigned char *out, unsigned flags, const void *p, size_t n)
{
    out[0] = (unsigned char)flags;
    out[1] = (unsigned char)(n >> 8);
    out[2] = (unsigned char)n;
    memcpy(out + 3, p, n);
    return n + 3;
}

static unsigned char welcome[256];
static size_t welcome_len;

/* A message for the decoder, and for the whole client: the welcome, then the message (whole,
 * and in two fragments), then a close frame. */
static void client_put(const char *name, const char *p, size_t n)
{
    put("client", name, p, n);
    if (!strcmp(name, "welcome")) {
        memcpy(welcome, p, n);
        welcome_len = n;
    }
    unsigned char buf[4096];
    size_t at = ws_chunk(buf, 0x02, welcome, welcome_len);
    at += ws_chunk(buf + at, 0x02, p, n);
    at += ws_chunk(buf + at, 0x12, p, n / 2);
    at += ws_chunk(buf + at, 0x00, p + n / 2, n - n / 2);
    at += ws_chunk(buf + at, 0x08, "\x03\xe8", 2);
    put("client_ws", name, buf, at);
}

static void client_seeds(void)
{
    mu_enc e;
    size_t n;
    const char *p;

    mu_enc_init(&e, 0);
    mu_enc_map(&e, 4);
    mu_enc_kstr(&e, "op", "welcome");
    mu_enc_kint(&e, "proto", 1);
    mu_enc_kstr(&e, "server", "mutual/0.1.0");
    mu_enc_key(&e, "limits");
    mu_enc_map(&e, 2);
    mu_enc_kuint(&e, "max_frame", 65536);
    mu_enc_kuint(&e, "max_text", 4000);
    p = mu_enc_payload(&e, &n);
    client_put("welcome", p, n);
    mu_enc_free(&e);

    mu_enc_init(&e, 0);
    mu_enc_map(&e, 5);
    mu_enc_kstr(&e, "op", "reply");
    mu_enc_kuint(&e, "rid", 1); /* the request the client sends */
    mu_enc_kbool(&e, "ok", true);
    mu_enc_kuint(&e, "id", 42);
    mu_enc_kint(&e, "ts", 1764720000000);
    p = mu_enc_payload(&e, &n);
    client_put("reply-ok", p, n);
    mu_enc_free(&e);

    mu_enc_init(&e, 0);
    mu_enc_map(&e, 5);
    mu_enc_kstr(&e, "op", "reply");
    mu_enc_kuint(&e, "rid", 8);
    mu_enc_kbool(&e, "ok", false);
    mu_enc_kstr(&e, "code", "forbidden");
    mu_enc_kstr(&e, "msg", "Only a mentor can do that.");
    p = mu_enc_payload(&e, &n);
    client_put("reply-error", p, n);
    mu_enc_free(&e);

    mu_enc_init(&e, 0);
    mu_enc_map(&e, 6);
    mu_enc_kstr(&e, "op", "dm.msg");
    mu_enc_kuint(&e, "id", 3);
    mu_enc_kstr(&e, "from", "fmentor");
    mu_enc_kstr(&e, "to", "fmember");
    mu_enc_kstr(&e, "text", "How was today? \xe2\x98\x80");
    mu_enc_kint(&e, "ts", 1764720000000);
    p = mu_enc_payload(&e, &n);
    client_put("event-dm", p, n);
    mu_enc_free(&e);

    mu_enc_init(&e, 0);
    mu_enc_map(&e, 4);
    mu_enc_kstr(&e, "op", "reply");
    mu_enc_kuint(&e, "rid", 9);
    mu_enc_kbool(&e, "ok", true);
    mu_enc_key(&e, "rooms");
    mu_enc_array(&e, 2);
    for (int i = 0; i < 2; i++) {
        mu_enc_map(&e, 4);
        mu_enc_kstr(&e, "room", i ? "smart-tue" : "carers");
        mu_enc_kbool(&e, "is_open", i);
        mu_enc_knil(&e, "format");
        mu_enc_key(&e, "schedule");
        mu_enc_array(&e, 1);
        enc_slot(&e);
    }
    p = mu_enc_payload(&e, &n);
    client_put("reply-list", p, n);
    mu_enc_free(&e);

    mu_enc_init(&e, 0);
    mu_enc_map(&e, 3);
    mu_enc_kstr(&e, "op", "reply");
    mu_enc_kint(&e, "rid", -1);
    mu_enc_key(&e, "score");
    mu_enc_double(&e, 0.75);
    p = mu_enc_payload(&e, &n);
    client_put("odd-values", p, n);
    mu_enc_free(&e);
}

/* ---- configuration files ---------------------------------------------------------------- */

static void config_seeds(const char *conf)
{
    static const char small[] = "listen = 127.0.0.1:7681\ndb = mutual.db\nsend_queue = 1048576\n"
                                "synchronous = normal\nopen_registration = false\n";
    put("config", "small", small, sizeof(small) - 1);
    static const char help[] = "# comment\nhelp = A line | 0800 000 | https://example.org | "
                               "any time | GB\nhelp = Another\n";
    put("config", "help", help, sizeof(help) - 1);
    if (!conf)
        return;
    FILE *f = fopen(conf, "rb");
    if (!f) {
        fprintf(stderr, "gen_corpus: cannot read %s\n", conf);
        exit(1);
    }
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    put("config", "mutual.conf", buf, n);
}

/* One dictionary entry: `s` as a MessagePack fixstr (all names are under 32 bytes). */
static void dict_entry(FILE *f, const char *s)
{
    size_t n = strlen(s);
    if (n > 31)
        return;
    fprintf(f, "\"\\x%02x%s\"\n", 0xa0u | (unsigned)n, s);
}

static void write_dict(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "gen_corpus: cannot write %s\n", path);
        exit(1);
    }
    fprintf(f, "# Op, field and enum names of the op table as MessagePack strings "
               "(written by gen_corpus).\n");
    static const char *const envelope[] = {"op", "rid", "ok", "code", "msg", "reply", NULL};
    for (unsigned i = 0; envelope[i]; i++)
        dict_entry(f, envelope[i]);
    for (unsigned i = 0; i < MU_OP__COUNT; i++) {
        const mu_op *op = mu_op_by_id((mu_op_id)i);
        dict_entry(f, op->name);
        for (unsigned k = 0; k < op->nfields; k++) {
            dict_entry(f, op->fields[k].name);
            for (unsigned v = 0; op->fields[k].values && op->fields[k].values[v]; v++)
                dict_entry(f, op->fields[k].values[v]);
        }
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_corpus OUTDIR [mutual.conf]\n");
        return 2;
    }
    outdir = argv[1];
    mkdir_p("request");
    mkdir_p("dispatch");
    mkdir_p("client");
    mkdir_p("client_ws");
    mkdir_p("config");
    unsigned nops = 0;
    for (unsigned i = 0; i < MU_OP__COUNT; i++) {
        const mu_op *op = mu_op_by_id((mu_op_id)i);
        if (op->flags & MU_OPF_EVENT)
            continue;
        for (int all = 0; all < 2; all++) {
            mu_enc e;
            size_t n;
            const char *p = enc_request(&e, op, 1, all, &n);
            char name[96];
            snprintf(name, sizeof(name), "%s-%s", op->name, all ? "all" : "required");
            put("request", name, p, n);
            /* A seed that the validator refuses would only test the refusal. */
            mu_request r;
            mu_error err;
            mu_request_init(&r);
            if (mu_request_parse(&r, p, n, &err) != MU_PARSE_OK ||
                mu_request_validate(&r, &(mu_limits){4000, 2000}, &err) != MU_OK) {
                fprintf(stderr, "gen_corpus: the seed %s is not valid: %s\n", name, err.msg);
                return 1;
            }
            mu_request_free(&r);
            mu_enc_free(&e);
        }
        nops++;
    }
    dispatch_seeds();
    client_seeds();
    config_seeds(argc > 2 ? argv[2] : NULL);
    if (argc > 3)
        write_dict(argv[3]);
    printf("gen_corpus: seeds for %u ops in %s\n", nops, outdir);
    return 0;
}
