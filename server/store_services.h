/* The local services directory: its record, the check every entry passes (from an op or from
 * a CSV import alike), and its SQL. Layer: storage. */
#ifndef MUTUAL_STORE_SERVICES_H
#define MUTUAL_STORE_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "store.h"

/* The fields in wire order, which is also the CSV header's order. */
typedef enum {
    SVC_NAME,
    SVC_CATEGORY,
    SVC_DESCRIPTION,
    SVC_PHONE,
    SVC_URL,
    SVC_HOURS,
    SVC_REGION,
    SVC_REFERRAL,
    SVC__FIELDS
} svc_field;
extern const char *const svc_keys[SVC__FIELDS];

/* A service; each field NULL when absent. Whether the strings are owned is the holder's
 * business (service_free frees them). */
typedef struct {
    char *f[SVC__FIELDS];
} service_t;

void service_free(service_t *s);
/* Every rule of the directory: name 1 to 120 bytes, a known category, description up to
 * 500, url an http(s) URL up to 300, referral up to 200, other texts up to 100, all UTF-8,
 * none empty. False with a sentence in err naming the field. */
bool service_check(const service_t *s, char *err, size_t errlen);
/* The service object, with only the fields present. */
void service_enc(mu_enc *e, int64_t id, const service_t *s);

mu_code store_services_add(mu_wtx *w, const service_t *s, int64_t *id);
/* MU_E_NOT_FOUND when no service has that id. */
mu_code store_services_update(mu_wtx *w, int64_t id, const service_t *s);
mu_code store_services_remove(mu_wtx *w, int64_t id);
/* Encodes the matching services into `items` (by category in the order of the list of
 * categories, then name); their count in *n. 0, or -1 on a read error. */
int store_services_list(mu_reader *r, const char *category, const char *region, mu_enc *items,
                        uint32_t *n);

#endif
