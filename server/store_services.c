/* The local services directory (see store_services.h). Layer: storage. */
#include "store_services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const svc_keys[SVC__FIELDS] = {"name", "category", "description", "phone",
                                           "url",  "hours",    "region",      "referral"};
static const size_t svc_max[SVC__FIELDS] = {120, 16, 500, 100, 300, 100, 100, 200};
static const char *const categories[] = {
    "crisis",        "mutual_aid", "treatment",  "harm_reduction", "family",
    "mental_health", "housing",    "employment", "other",          NULL};

void service_free(service_t *s)
{
    for (int i = 0; i < SVC__FIELDS; i++) {
        free(s->f[i]);
        s->f[i] = NULL;
    }
}

/* http:// or https:// then a host: no spaces or control characters anywhere, since a link
 * shown to people in crisis must be exactly what the admin meant. */
static bool url_ok(const char *u)
{
    size_t skip = !strncasecmp(u, "http://", 7) ? 7 : !strncasecmp(u, "https://", 8) ? 8 : 0;
    if (!skip || !u[skip] || u[skip] == '/')
        return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

bool service_check(const service_t *s, char *err, size_t errlen)
{
    for (int i = 0; i < SVC__FIELDS; i++) {
        const char *v = s->f[i];
        if (!v) {
            if (i == SVC_NAME || i == SVC_CATEGORY) {
                snprintf(err, errlen, "%s is missing.", svc_keys[i]);
                return false;
            }
            continue;
        }
        size_t n = strlen(v);
        if (!mu_utf8_valid(v, n)) {
            snprintf(err, errlen, "%s is not valid UTF-8.", svc_keys[i]);
            return false;
        }
        if (n == 0 || n > svc_max[i]) {
            snprintf(err, errlen, "%s must be 1 to %zu bytes.", svc_keys[i], svc_max[i]);
            return false;
        }
    }
    bool known = false;
    for (int i = 0; categories[i]; i++)
        known = known || !strcmp(categories[i], s->f[SVC_CATEGORY]);
    if (!known) {
        snprintf(err, errlen,
                 "category must be one of crisis, mutual_aid, treatment, "
                 "harm_reduction, family, mental_health, housing, employment, other.");
        return false;
    }
    if (s->f[SVC_URL] && !url_ok(s->f[SVC_URL])) {
        snprintf(err, errlen, "url must be an http:// or https:// address without spaces.");
        return false;
    }
    return true;
}

void service_enc(mu_enc *e, int64_t id, const service_t *s)
{
    uint32_t n = 1;
    for (int i = 0; i < SVC__FIELDS; i++)
        n += s->f[i] != NULL;
    mu_enc_map(e, n);
    mu_enc_kint(e, "id", id);
    for (int i = 0; i < SVC__FIELDS; i++)
        if (s->f[i])
            mu_enc_kstr(e, svc_keys[i], s->f[i]);
}

static void bind_fields(db_stmt *st, const service_t *s)
{
    for (int i = 0; i < SVC__FIELDS; i++)
        store_bind_text(st, i + 1, s->f[i], -1);
}

mu_code store_services_add(mu_wtx *w, const service_t *s, int64_t *id)
{
    db_stmt *st = store_wstmt(w, "INSERT INTO services (name, category, description, "
                                 "phone, url, hours, region, referral) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id");
    if (st)
        bind_fields(st, s);
    return store_step_id(st, id);
}

mu_code store_services_update(mu_wtx *w, int64_t id, const service_t *s)
{
    db_stmt *st = store_wstmt(w, "UPDATE services SET name = ?1, category = ?2, "
                                 "description = ?3, phone = ?4, url = ?5, hours = ?6, "
                                 "region = ?7, referral = ?8 WHERE id = ?9");
    if (st) {
        bind_fields(st, s);
        db_bind_i64(st, 9, id);
    }
    mu_code c = store_step(st);
    if (c == MU_OK && db_changes(store_wdb(w)) == 0)
        c = MU_E_NOT_FOUND;
    return c;
}

mu_code store_services_remove(mu_wtx *w, int64_t id)
{
    db_stmt *st = store_wstmt(w, "DELETE FROM services WHERE id = ?");
    if (st)
        db_bind_i64(st, 1, id);
    mu_code c = store_step(st);
    if (c == MU_OK && db_changes(store_wdb(w)) == 0)
        c = MU_E_NOT_FOUND;
    return c;
}

int store_services_list(mu_reader *r, const char *category, const char *region, mu_enc *items,
                        uint32_t *n)
{
    /* Crisis lines first: the categories in the protocol's order, not the alphabet's. */
    db_stmt *st = store_rstmt(
        r, "SELECT id, name, category, description, phone, url, hours, region, referral "
           "FROM services WHERE (CAST(?1 AS TEXT) IS NULL OR category = ?1) "
           "AND (CAST(?2 AS TEXT) IS NULL OR region IS NULL "
           "OR lower(region) = lower(CAST(?2 AS TEXT))) "
           "ORDER BY CASE category WHEN 'crisis' THEN 0 WHEN 'mutual_aid' THEN 1 "
           "WHEN 'treatment' THEN 2 WHEN 'harm_reduction' THEN 3 WHEN 'family' THEN 4 "
           "WHEN 'mental_health' THEN 5 WHEN 'housing' THEN 6 WHEN 'employment' THEN 7 "
           "ELSE 8 END, lower(name), id");
    if (!st)
        return -1;
    if (category)
        db_bind_text(st, 1, category, -1);
    if (region)
        db_bind_text(st, 2, region, -1);
    *n = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        service_t sv;
        for (int i = 0; i < SVC__FIELDS; i++)
            sv.f[i] = (char *)db_col_text(st, i + 1); /* borrowed until the next step */
        service_enc(items, db_col_i64(st, 0), &sv);
        (*n)++;
    }
    return store_read_done(st, rc, 0);
}
