/* Start-up checks of the TLS certificate and key files, so that a bad pair stops mutuald with
 * one clear line instead of a failed handshake at the first client.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_TLS_FILES_H
#define MUTUAL_TLS_FILES_H

#include <stddef.h>

/* Both empty: TLS is off, 0. Otherwise both must be set, readable PEM files; the key must not
 * be readable or writable by group or others, and must be the certificate's key. On failure
 * returns -1 with one sentence in err. */
int tls_files_check(const char *cert, const char *key, char *err, size_t errlen);

#endif
