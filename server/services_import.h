/* `mutuald services import FILE`: a CSV of services loaded all or nothing. Layer: storage
 * tools, used by main.c only. */
#ifndef MUTUAL_SERVICES_IMPORT_H
#define MUTUAL_SERVICES_IMPORT_H

#include "db.h"
#include <stddef.h>

/* Reads the CSV at `path` (a header line naming the columns out of name, category,
 * description, phone, url, hours, region, referral, in any order; name and category
 * required), checks every record, then adds them all in one transaction. Returns the number
 * added, or -1 with the first problem in err ("line 7: url must be ...") and nothing added. */
long services_import(db_conn *db, const char *path, char *err, size_t errlen);

#endif
