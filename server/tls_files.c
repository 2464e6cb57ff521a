/* TLS file checks (see tls_files.h). Layer: base. */
#include "tls_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Opens without following a symlink swap between the mode check and the read: the mode is
 * taken from the descriptor that is then read. */
static FILE *open_checked(const char *path, const char *what, int private_key, char *err,
                          size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read the TLS %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "the TLS %s %s is not a regular file", what, path);
        close(fd);
        return NULL;
    }
    /* A private key others can read is already disclosed; refuse rather than serve with it. */
    if (private_key && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        snprintf(err, errlen,
                 "the TLS key %s is accessible by group or others (mode %03o); "
                 "make it readable by its owner only (chmod 600)",
                 path, (unsigned)(st.st_mode & 0777));
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the TLS %s %s: %s", what, path, strerror(errno));
        close(fd);
    }
    return f;
}

int tls_files_check(const char *cert, const char *key, char *err, size_t errlen)
{
    if (!cert[0] && !key[0])
        return 0;
    if (!cert[0] || !key[0]) {
        snprintf(err, errlen, "TLS needs both tls_cert and tls_key");
        return -1;
    }
    int rc = -1;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    FILE *fc = NULL, *fk = NULL;
    fc = open_checked(cert, "certificate", 0, err, errlen);
    if (!fc)
        goto cleanup;
    x = PEM_read_X509(fc, NULL, NULL, NULL);
    if (!x) {
        snprintf(err, errlen, "the TLS certificate %s is not a PEM certificate", cert);
        goto cleanup;
    }
    fk = open_checked(key, "key", 1, err, errlen);
    if (!fk)
        goto cleanup;
    /* An empty passphrase, so that OpenSSL never prompts on the terminal: an encrypted key
     * cannot be served unattended anyway. */
    k = PEM_read_PrivateKey(fk, NULL, NULL, (void *)"");
    if (!k) {
        snprintf(err, errlen, "the TLS key %s is not an unencrypted PEM private key", key);
        goto cleanup;
    }
    if (X509_check_private_key(x, k) != 1) {
        snprintf(err, errlen, "the TLS key %s does not match the certificate %s", key, cert);
        goto cleanup;
    }
    rc = 0;
cleanup:
    ERR_clear_error();
    EVP_PKEY_free(k);
    X509_free(x);
    if (fk)
        fclose(fk);
    if (fc)
        fclose(fc);
    return rc;
}
