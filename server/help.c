/* help: the crisis and support resources this server is configured with. It works before
 * sign-in, because the moment someone needs it is not the moment to ask for a password. */
#include "handlers.h"

void help_request(mu_conn *c, mu_request *r)
{
    const mu_config *cfg = &g_srv->cfg;
    mu_enc e;
    conn_reply_begin(c, &e, 1);
    mu_enc_key(&e, "resources");
    mu_enc_array(&e, (uint32_t)cfg->nhelp);
    for (size_t i = 0; i < cfg->nhelp; i++) {
        const mu_resource *res = &cfg->help[i];
        const char *keys[5] = {"name", "phone", "url", "hours", "region"};
        const char *vals[5] = {res->name, res->phone, res->url, res->hours, res->region};
        uint32_t n = 0;
        for (int k = 0; k < 5; k++)
            n += vals[k] != NULL;
        mu_enc_map(&e, n);
        for (int k = 0; k < 5; k++)
            if (vals[k])
                mu_enc_kstr(&e, keys[k], vals[k]);
    }
    conn_reply(c, &e);
}
