/* Roles (see roles.h). Layer: base (calls nothing of the server's above it). */
#include "roles.h"

#include <string.h>

static const char *const role_names[ROLE__COUNT] = {"member", "family", "mentor", "admin"};

const char *role_name(mu_role r)
{
    return (unsigned)r < ROLE__COUNT ? role_names[r] : "member";
}

int role_parse(const char *s, size_t n)
{
    for (int i = 0; i < ROLE__COUNT; i++)
        if (strlen(role_names[i]) == n && memcmp(role_names[i], s, n) == 0)
            return i;
    return -1;
}

void role_enc_user(mu_enc *e, const char *handle, mu_role role)
{
    mu_enc_map(e, 2);
    mu_enc_kstr(e, "handle", handle);
    mu_enc_kstr(e, "role", role_name(role));
}
