/* The writer's advisory locks on PostgreSQL (see store.h): a rule decided in
 * turn across nodes (store_serialize), and the locks of a batch's jobs taken in key order
 * before its first job, so that two nodes' batches never wait on each other in a circle.
 * Nothing on SQLite, whose one writer is alone. Layer: storage. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "xalloc.h"

mu_code store_serialize(mu_wtx *w, store_lock what, int64_t key)
{
    if (db_engine_of(store_wdb(w)) != DB_POSTGRESQL)
        return MU_OK;
    db_stmt *st = store_wstmt(w, "SELECT pg_advisory_xact_lock(?)");
    if (st)
        db_bind_i64(st, 1, (int64_t)(((uint64_t)what << 56) ^ (uint64_t)key));
    return store_step(st);
}

int64_t store_key_of(const char *name)
{
    unsigned char out[8];
    crypto_generichash(out, sizeof(out), (const unsigned char *)name, strlen(name), NULL, 0);
    uint64_t k = 0;
    for (size_t i = 0; i < sizeof(out); i++)
        k = k << 8 | out[i];
    return k ? (int64_t)k : 1;
}

static int cmp_key(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

bool store_lock_batch(db_conn *db, const mu_job *batch, unsigned n, bool *skip)
{
    int64_t *keys = xcalloc(n ? n : 1, sizeof(*keys));
    size_t k = 0;
    for (const mu_job *j = batch; j; j = j->next)
        if (j->lock_key)
            keys[k++] = j->lock_key;
    bool ok = true;
    if (k) {
        qsort(keys, k, sizeof(*keys), cmp_key);
        /* Literal integers: a prepared statement per batch size is not worth its cache. */
        size_t cap = 128 + k * 22, len = 0; /* 21 digits and a comma each */
        char *sql = xmalloc(cap);
        len +=
            (size_t)snprintf(sql, cap, "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(ARRAY[");
        for (size_t i = 0; i < k; i++)
            if (i == 0 || keys[i] != keys[i - 1])
                len += (size_t)snprintf(sql + len, cap - len, "%s%" PRId64, i ? "," : "", keys[i]);
        snprintf(sql + len, cap - len, "]::bigint[]) AS k");
        ok = db_exec(db, "SAVEPOINT locks") == DB_DONE;
        if (ok && db_exec(db, sql) == DB_DONE) {
            ok = db_exec(db, "RELEASE locks") == DB_DONE;
        } else if (ok) {
            log_warn("a room's writes waited too long for another node: %s", db_errmsg(db));
            *skip = true;
            ok = db_exec(db, "ROLLBACK TO locks; RELEASE locks") == DB_DONE;
        }
        free(sql);
    }
    free(keys);
    return ok;
}
