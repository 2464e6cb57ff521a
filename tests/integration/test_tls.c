/* TLS end to end: a throwaway CA and server certificate made with the openssl command, mutuald
 * serving wss:// with them, and the client library verifying the server against that CA.
 * Plain ws:// against the TLS port, a client trusting another CA, and start-up with a bad key
 * all fail cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char pki[256]; /* the certificates' directory, made once for every test */

static void run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

/* A CA, a server certificate it signs for 127.0.0.1, a second unrelated CA, and a key that
 * belongs to no certificate. EC keys: quick to make. */
static int make_pki(void **state)
{
    (void)state;
    snprintf(pki, sizeof(pki), "/tmp/mutual-tls-XXXXXX");
    if (!mkdtemp(pki))
        return -1;
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("cd '%s' && printf '%%s\\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' "
        "'basicConstraints=CA:FALSE' 'keyUsage=digitalSignature' "
        "'extendedKeyUsage=serverAuth' > ext.cnf",
        pki);
    for (int i = 0; i < 2; i++)
        run("cd '%s' && openssl req -x509 %s -keyout %s.key -out %s.pem -days 2 "
            "-subj '/CN=Mutual test %s' -addext basicConstraints=critical,CA:TRUE "
            "-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null",
            pki, ec, i ? "otherca" : "ca", i ? "otherca" : "ca", i ? "other CA" : "CA");
    run("cd '%s' && openssl req %s -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null"
        " && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out srv.pem -days 2 -extfile ext.cnf 2>/dev/null"
        " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out wrong.key"
        " && openssl pkey -in srv.key -aes256 -passout pass:secret -out enc.key"
        " && chmod 600 srv.key wrong.key enc.key",
        pki, ec);
    return 0;
}

static int drop_pki(void **state)
{
    (void)state;
    if (!getenv("MUTUAL_KEEP_TEST_DIRS"))
        run("rm -rf '%s'", pki);
    return 0;
}

static void tls_config(char *buf, size_t n, const char *key)
{
    snprintf(buf, n, "tls_cert = %s/srv.pem\ntls_key = %s/%s\n", pki, pki, key);
}

static mu_client *connect_to(mu_sync *y, const char *url, const char *ca, char *err, size_t n)
{
    mu_client_opts o = {.url = url, .ca_file = ca};
    return mu_sync_connect(y, &o, 10000, err, n);
}

static void test_wss_with_verification(void **state)
{
    (void)state;
    char conf[700], url[128], ca[300], err[256];
    tls_config(conf, sizeof(conf), "srv.key");
    srv_t s;
    srv_start(&s, conf, 0);
    snprintf(url, sizeof(url), "wss://127.0.0.1:%d/ws", s.port);
    snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
    mu_sync *y = mu_sync_new();

    mu_client *c = connect_to(y, url, ca, err, sizeof(err));
    if (!c)
        fail_msg("wss:// with the test CA: %s", err);
    free(cl_register(y, c, "tlsuser", "a good long password", NULL));
    call_expect(y, c, mu_req_new("ping"), "ok");

    /* An admin signs in on a second TLS connection and messages the first. */
    srv_user_add(&s, "tlsadmin", "a good long password", "admin");
    mu_client *d = connect_to(y, url, ca, err, sizeof(err));
    assert_non_null(d);
    free(cl_login(y, d, "tlsadmin", "a good long password"));
    mu_req *r = mu_req_new("dm.send");
    mu_req_str(r, "to", "tlsuser");
    mu_req_str(r, "text", "over TLS");
    call_expect(y, d, r, "ok");
    mu_msg *ev = cl_event(y, c, "dm.msg");
    assert_string_equal(mu_value_get_str(mu_msg_root(ev), "text"), "over TLS");
    mu_msg_free(ev);

    /* Verification is on: a client that trusts another CA, or only the system's, refuses. */
    char other[300];
    snprintf(other, sizeof(other), "%s/otherca.pem", pki);
    assert_null(connect_to(y, url, other, err, sizeof(err)));
    assert_null(connect_to(y, url, NULL, err, sizeof(err)));
    /* A CA file that does not exist fails the connection instead of trusting anything. */
    snprintf(other, sizeof(other), "%s/missing.pem", pki);
    assert_null(connect_to(y, url, other, err, sizeof(err)));

    /* Plain ws:// against the TLS port fails cleanly, and the server keeps serving. */
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", s.port);
    double t0 = mono_ms();
    assert_null(connect_to(y, url, NULL, err, sizeof(err)));
    assert_true(mono_ms() - t0 < 10000);
    char *body = NULL;
    assert_int_not_equal(http_get(s.port, "/healthz", &body), 200);
    free(body);
    call_expect(y, c, mu_req_new("ping"), "ok");

    mu_sync_free(y);
    srv_stop(&s); /* exits 0: no sanitizer report, no leak */
    srv_cleanup(&s);
}

/* The CLI over wss://: --ca-file trusts the test CA, the session keeps it for later commands,
 * and without it the server's certificate is refused. */
static void test_cli_ca_file(void **state)
{
    (void)state;
    char conf[700], out[4096];
    tls_config(conf, sizeof(conf), "srv.key");
    srv_t s;
    srv_start(&s, conf, 0);
    char cli[800];
    snprintf(cli, sizeof(cli), "XDG_CONFIG_HOME=%s/cfg %s --server wss://127.0.0.1:%d", s.dir,
             MUTUAL_CLI_PATH, s.port);
    assert_int_not_equal(sh_capture(out, sizeof(out), "%s ping", cli), 0);
    assert_non_null(strstr(out, "certificate is not trusted"));
    assert_non_null(strstr(out, "TLS handshake failed"));
    assert_non_null(strstr(out, "pass it with --ca-file PEM"));
    assert_int_equal(sh_capture(out, sizeof(out), "%s --ca-file %s/nope.pem ping", cli, pki), 2);
    assert_non_null(strstr(out, "cannot read the CA file"));
    assert_int_equal(
        sh_capture(out, sizeof(out),
                   "printf 'a good long password\\n' | %s --ca-file %s/ca.pem register "
                   "tlscli",
                   cli, pki),
        0);
    assert_non_null(strstr(out, "as tlscli"));
    /* Later commands use the saved session's server and CA. */
    snprintf(cli, sizeof(cli), "XDG_CONFIG_HOME=%s/cfg %s", s.dir, MUTUAL_CLI_PATH);
    assert_int_equal(sh_capture(out, sizeof(out), "%s whoami", cli), 0);
    assert_non_null(strstr(out, "tlscli"));
    /* Another CA is refused even so. */
    assert_int_not_equal(
        sh_capture(out, sizeof(out), "%s --ca-file %s/otherca.pem whoami", cli, pki), 0);
    srv_stop(&s);
    srv_cleanup(&s);
}

/* Runs mutuald serve with the configuration and returns its exit status; its output (stdout
 * and stderr) in out. */
static int serve_status(const char *conf_text, char *out, size_t outlen)
{
    char dir[] = "/tmp/mutual-tls-run-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char conf[400], db[400], log[400];
    snprintf(conf, sizeof(conf), "%s/mutual.conf", dir);
    snprintf(db, sizeof(db), "%s/mutual.db", dir);
    snprintf(log, sizeof(log), "%s/out", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs(conf_text, f);
    fclose(f);
    char cmd[1600];
    snprintf(cmd, sizeof(cmd),
             "timeout 20 '%s' serve --listen 127.0.0.1:0 --db '%s' --config '%s' >'%s' 2>&1",
             MUTUALD_PATH, db, conf, log);
    int st = system(cmd);
    f = fopen(log, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, outlen - 1, f);
    out[n] = 0;
    fclose(f);
    /* Refused before anything is opened: no database was created. */
    struct stat sb;
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
        assert_int_not_equal(stat(db, &sb), 0);
    run("rm -rf '%s'", dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void expect_refusal(const char *conf, const char *words)
{
    char out[4096];
    int st = serve_status(conf, out, sizeof(out));
    if (st != 1)
        fail_msg("mutuald exited %d, expected a refusal; output:\n%s", st, out);
    /* One line, and it names the problem. */
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    if (nl[1] != 0)
        fail_msg("expected one line, got:\n%s", out);
    if (!strstr(out, words))
        fail_msg("expected '%s' in: %s", words, out);
}

static void test_refuses_key_of_another_certificate(void **state)
{
    (void)state;
    char conf[700];
    tls_config(conf, sizeof(conf), "wrong.key");
    expect_refusal(conf, "does not match the certificate");
}

static void test_refuses_key_readable_by_others(void **state)
{
    (void)state;
    char conf[700], key[300];
    snprintf(key, sizeof(key), "%s/srv.key", pki);
    tls_config(conf, sizeof(conf), "srv.key");
    assert_int_equal(chmod(key, 0640), 0);
    expect_refusal(conf, "accessible by group or others");
    assert_int_equal(chmod(key, 0604), 0);
    expect_refusal(conf, "accessible by group or others");
    assert_int_equal(chmod(key, 0600), 0);
}

static void test_refuses_missing_or_half_settings(void **state)
{
    (void)state;
    char conf[700];
    snprintf(conf, sizeof(conf), "tls_cert = %s/srv.pem\n", pki);
    expect_refusal(conf, "needs both tls_cert and tls_key");
    snprintf(conf, sizeof(conf), "tls_cert = %s/srv.pem\ntls_key = %s/nope.key\n", pki, pki);
    expect_refusal(conf, "cannot read the TLS key");
    /* An encrypted key: nobody is there to type its passphrase. */
    snprintf(conf, sizeof(conf), "tls_cert = %s/srv.pem\ntls_key = %s/enc.key\n", pki, pki);
    expect_refusal(conf, "is not an unencrypted PEM private key");
    /* A key given as the certificate. */
    snprintf(conf, sizeof(conf), "tls_cert = %s/srv.key\ntls_key = %s/srv.key\n", pki, pki);
    expect_refusal(conf, "is not a PEM certificate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wss_with_verification),
        cmocka_unit_test(test_cli_ca_file),
        cmocka_unit_test(test_refuses_key_of_another_certificate),
        cmocka_unit_test(test_refuses_key_readable_by_others),
        cmocka_unit_test(test_refuses_missing_or_half_settings),
    };
    return cmocka_run_group_tests(tests, make_pki, drop_pki);
}
