/* The SQL of accounts and sessions. The finds (store_users_find_*, store_users_token_find) read on
 * the loop's read connection (index-backed, one row); the rest run on the writer thread inside a
 * job. Layer: storage, over the base. */
#ifndef MUTUAL_STORE_USERS_H
#define MUTUAL_STORE_USERS_H

#include <sodium.h>
#include <stdint.h>

#include "roles.h"
#include "store.h"

typedef struct {
    int64_t id;
    char handle[MU_HANDLE_MAX + 1];
    mu_role role;
    char pwhash[crypto_pwhash_STRBYTES];
} user_row;

/* Through a read connection (the loop's or a thread's own): 1 found, 0 not found, -1 storage
 * error (logged). */
int store_users_find_by_handle(mu_reader *r, const char *handle, user_row *out);
int store_users_find_by_id(mu_reader *r, int64_t id, user_row *out);
/* The same in the writer's transaction, for a decision made in the writers' order. */
int store_users_find_by_handle_w(mu_wtx *w, const char *handle, user_row *out);
int store_users_token_find(mu_reader *r, const uint8_t hash[32], user_row *out,
                           int64_t *expires_ms);

/* On the writer: whether a session's token still exists (1, with the user's role now), 0 when
 * it was revoked or its user erased, -1 on error; and a user's handle. */
int store_users_session_w(mu_wtx *w, const uint8_t hash[32], mu_role *role);
int store_users_handle_w(mu_wtx *w, int64_t id, char handle[MU_HANDLE_MAX + 1]);
int store_users_role_w(mu_wtx *w, int64_t id, mu_role *role);

mu_code store_users_insert(mu_wtx *w, const char *handle, mu_role role, const char *pwhash,
                           int64_t now_ms, int64_t *id);
mu_code store_users_token_insert(mu_wtx *w, const uint8_t hash[32], int64_t user_id, int64_t now_ms,
                                 int64_t expires_ms);
mu_code store_users_token_delete(mu_wtx *w, const uint8_t hash[32]);
/* New password hash; every token of the user but `keep` is revoked. */
mu_code store_users_set_password(mu_wtx *w, int64_t user_id, const char *pwhash,
                                 const uint8_t keep[32]);
mu_code store_users_tokens_purge(mu_wtx *w, int64_t now_ms);

#endif
