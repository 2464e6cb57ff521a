/* The SQL of data rights and administration: export, erasure, roles, audit, stats, retention.
 * Layer: storage, over the base. */
#ifndef MUTUAL_STORE_ADMIN_H
#define MUTUAL_STORE_ADMIN_H

#include <stdint.h>

#include "proto.h"
#include "roles.h"
#include "store.h"

int64_t store_admin_count_admins(mu_reader *r);
int64_t store_admin_count_users(mu_reader *r);
int64_t store_admin_count_checkins_since(mu_reader *r, int64_t ts);

/* Erases a user and everything about them; the audit log keeps the facts with a
 * placeholder for the person. */
mu_code store_admin_erase_user(mu_wtx *w, int64_t user);
/* Sets the role and its consequences for caseloads. */
mu_code store_admin_set_role(mu_wtx *w, int64_t user, mu_role role, int64_t *unassigned);

/* One entry of the audit log; target and room may be NULL (target_id 0: none). */
mu_code store_admin_audit_add(mu_wtx *w, int64_t ts, int64_t actor_id, const char *actor,
                              const char *action, int64_t target_id, const char *target,
                              const char *room);
/* The same with a detail: the new role of `role`, the mentor of `assign` (NULL: none). */
mu_code store_admin_audit_add_detail(mu_wtx *w, int64_t ts, int64_t actor_id, const char *actor,
                                     const char *action, int64_t target_id, const char *target,
                                     const char *room, const char *detail);
/* One entry as read. target, room, detail and reason may be NULL; seq is 0 but for a report
 * (whose detail is the reported text while the message is held). */
typedef struct {
    int64_t ts, seq;
    const char *actor, *action, *target, *room, *detail, *reason;
} audit_row;
typedef void (*audit_fn)(const audit_row *a, void *ud);
/* Entries with ts >= since and, unless `action` is NULL, that action; at most `limit`. */
int store_admin_audit_read(db_conn *db, int64_t since, const char *action, int limit,
                           bool newest_first, audit_fn fn, void *ud);

typedef struct {
    int64_t read_dms_ms, closed_alerts_ms, notes_ms; /* 0: keep forever */
} retention;
mu_code store_admin_retention(mu_wtx *w, int64_t now, const retention *r);

/* The caller's data as MessagePack key/value pairs, for me.export: EXPORT_PARTS of them. */
#define EXPORT_PARTS 9
int store_admin_export(mu_reader *r, int64_t user, mu_enc *e);

#endif
