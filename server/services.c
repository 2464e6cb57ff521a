/* The local services directory: services.list (before sign-in too) and, for admins,
 * service.add, service.update, service.remove (PROTOCOL.md, "Recovery plan, local services,
 * supervision"). Layer: concerns, over requests and storage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "reads.h"
#include "handlers.h"
#include "store_services.h"
#include "xalloc.h"

static char *field_dup(const mu_request *r, const char *key)
{
    if (!mu_req_has(r, key))
        return NULL;
    const mu_val *v = mu_req_field(r, key);
    char *s = xmalloc(v->v.s.n + 1);
    memcpy(s, v->v.s.p, v->v.s.n);
    s[v->v.s.n] = '\0';
    return s;
}

static bool list_run(read_call *rc, mu_reader *r)
{
    char *category = field_dup(rc->req, "category"), *region = field_dup(rc->req, "region");
    mu_enc items;
    mu_enc_init(&items, 0);
    uint32_t n = 0;
    bool ok = store_services_list(r, category, region, &items, &n) == 0;
    free(category);
    free(region);
    if (!ok) {
        mu_enc_free(&items);
        return false;
    }
    return reads_list(rc, "services", n, &items);
}

void op_services_list(mu_conn *c, mu_request *r)
{
    (void)r;
    reads_submit(reads_new(c, sizeof(read_call), list_run, "the services directory"));
}

typedef enum { SVC_OP_ADD, SVC_OP_UPDATE, SVC_OP_REMOVE } svc_op_kind;

typedef struct {
    mu_job job;
    mu_conn *c;
    svc_op_kind kind;
    int64_t id;
    service_t s; /* owned */
} svc_op;

static mu_code svc_run(mu_job *j, mu_wtx *w)
{
    svc_op *o = (svc_op *)j;
    switch (o->kind) {
    case SVC_OP_ADD: return store_services_add(w, &o->s, &o->id);
    case SVC_OP_UPDATE: return store_services_update(w, o->id, &o->s);
    case SVC_OP_REMOVE: return store_services_remove(w, o->id);
    }
    return MU_E_INTERNAL;
}

static void svc_done(mu_job *j)
{
    svc_op *o = (svc_op *)j;
    if (j->result == MU_E_NOT_FOUND) {
        reply_err(o->c, MU_E_NOT_FOUND, "There is no service with that id.");
    } else if (j->result != MU_OK) {
        reply_write_failed(o->c, j->result, "the directory was not changed");
    } else if (o->kind == SVC_OP_REMOVE) {
        reply_empty(o->c);
    } else {
        mu_enc e;
        reply_begin(o->c, &e, 1);
        mu_enc_key(&e, "service");
        service_enc(&e, o->id, &o->s);
        reply_end(o->c, &e);
    }
    conn_unref(o->c);
    service_free(&o->s);
    free(o);
}

static void svc_submit(mu_conn *c, mu_request *r, svc_op_kind kind)
{
    if (c->role != ROLE_ADMIN) {
        reply_err(c, MU_E_FORBIDDEN, "Only an admin may change the services directory.");
        return;
    }
    svc_op *o = xcalloc(1, sizeof(*o)); /* owned by the job until svc_done */
    if (kind != SVC_OP_ADD)
        o->id = (int64_t)mu_req_field(r, "id")->v.u;
    if (kind != SVC_OP_REMOVE) {
        for (int i = 0; i < SVC__FIELDS; i++)
            o->s.f[i] = field_dup(r, svc_keys[i]);
        /* The field table checked types and lengths; this adds the url's scheme, and is the
         * same check an import runs. */
        char err[160];
        if (!service_check(&o->s, err, sizeof(err))) {
            service_free(&o->s);
            free(o);
            reply_err(c, MU_E_BAD_REQUEST, "%s", err);
            return;
        }
    }
    o->c = conn_ref(c);
    o->kind = kind;
    o->job.run = svc_run;
    o->job.done = svc_done;
    store_submit(g_srv->store, &o->job);
}

void op_service_add(mu_conn *c, mu_request *r)
{
    svc_submit(c, r, SVC_OP_ADD);
}

void op_service_update(mu_conn *c, mu_request *r)
{
    svc_submit(c, r, SVC_OP_UPDATE);
}

void op_service_remove(mu_conn *c, mu_request *r)
{
    svc_submit(c, r, SVC_OP_REMOVE);
}
