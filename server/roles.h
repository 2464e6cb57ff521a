/* The four roles and their names on the wire. Layer: base. */
#ifndef MUTUAL_ROLES_H
#define MUTUAL_ROLES_H

#include <stddef.h>

#include "proto.h"

typedef enum { ROLE_MEMBER = 0, ROLE_FAMILY, ROLE_MENTOR, ROLE_ADMIN, ROLE__COUNT } mu_role;

const char *role_name(mu_role r);
/* -1 when `s` (n bytes, not NUL-terminated) names no role. */
int role_parse(const char *s, size_t n);
/* A user object, {handle, role}. */
void role_enc_user(mu_enc *e, const char *handle, mu_role role);

#endif
