/* The local services directory over real WebSockets: services.list before sign-in with its
 * filters and order, admin-only changes with every field checked, and `mutuald services
 * import` run as a program: all or nothing, naming the first bad line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "harness.h"

static mu_req *svc(const char *op, const char *name, const char *category, const char *region,
                   const char *url)
{
    mu_req *r = mu_req_new(op);
    mu_req_str(r, "name", name);
    mu_req_str(r, "category", category);
    if (region)
        mu_req_str(r, "region", region);
    if (url)
        mu_req_str(r, "url", url);
    return r;
}

static mu_msg *list(world *w, mu_client *c, const char *category, const char *region)
{
    mu_req *r = mu_req_new("services.list");
    if (category)
        mu_req_str(r, "category", category);
    if (region)
        mu_req_str(r, "region", region);
    mu_msg *m = cl_call(w->y, c, r);
    expect_ok(m);
    return m;
}

static const char *name_at(const mu_msg *m, size_t i)
{
    return mu_value_get_str(mu_value_at(mu_msg_get(m, "services"), i), "name");
}

static void test_ops(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, NULL, "riley");
    mu_client *anon = cl_connect(w.y, &w.s);
    /* empty before anything is added, and readable before sign-in */
    mu_msg *m = list(&w, anon, NULL, NULL);
    assert_int_equal(mu_value_len(mu_msg_get(m, "services")), 0);
    mu_msg_free(m);
    /* only admins change it */
    call_expect(w.y, w.mem, svc("service.add", "Needle exchange", "harm_reduction", NULL, NULL),
                "forbidden");
    call_expect(w.y, anon, svc("service.add", "Needle exchange", "harm_reduction", NULL, NULL),
                "unauthenticated");
    /* validation */
    call_expect(w.y, w.admin, svc("service.add", "X", "shop", NULL, NULL), "bad_request");
    call_expect(w.y, w.admin, svc("service.add", "", "other", NULL, NULL), "bad_request");
    call_expect(w.y, w.admin, svc("service.add", "X", "other", NULL, "ftp://a.example"),
                "bad_request");
    call_expect(w.y, w.admin, svc("service.add", "X", "other", NULL, "javascript:alert(1)"),
                "bad_request");
    call_expect(w.y, w.admin, svc("service.add", "X", "other", NULL, "https://a b.example"),
                "bad_request");
    char longname[122];
    memset(longname, 'n', 121);
    longname[121] = '\0';
    call_expect(w.y, w.admin, svc("service.add", longname, "other", NULL, NULL), "bad_request");
    mu_req *r = svc("service.add", "X", "other", NULL, NULL);
    mu_req_str(r, "referral", "");
    call_expect(w.y, w.admin, r, "bad_request");
    r = svc("service.add", "X", "other", NULL, NULL);
    mu_req_strn(r, "hours", "\xff\xfe", 2);
    call_expect(w.y, w.admin, r, "bad_request");

    r = svc("service.add", "Needle exchange", "harm_reduction", "Leeds", "https://nx.example/");
    mu_req_str(r, "referral", "self-referral, drop in");
    mu_req_str(r, "hours", "Mon-Fri 10-4");
    m = cl_call(w.y, w.admin, r);
    expect_ok(m);
    const mu_value *s = mu_msg_get(m, "service");
    int64_t nx = mu_value_get_int(s, "id", 0);
    assert_true(nx > 0);
    assert_string_equal(mu_value_get_str(s, "referral"), "self-referral, drop in");
    assert_null(mu_value_get(s, "phone")); /* absent stays absent */
    mu_msg_free(m);
    call_expect(w.y, w.admin, svc("service.add", "Samaritans", "crisis", NULL, NULL), "ok");
    call_expect(w.y, w.admin, svc("service.add", "Al-Anon", "family", "York", NULL), "ok");
    call_expect(w.y, w.admin, svc("service.add", "Alpha housing", "housing", "Leeds", NULL), "ok");
    call_expect(w.y, w.admin, svc("service.add", "aa meeting", "mutual_aid", "leeds", NULL), "ok");

    /* by category in the protocol's order, then name; region also matches none */
    m = list(&w, anon, NULL, NULL);
    assert_int_equal(mu_value_len(mu_msg_get(m, "services")), 5);
    assert_string_equal(name_at(m, 0), "Samaritans");
    assert_string_equal(name_at(m, 1), "aa meeting");
    assert_string_equal(name_at(m, 2), "Needle exchange");
    assert_string_equal(name_at(m, 3), "Al-Anon");
    assert_string_equal(name_at(m, 4), "Alpha housing");
    mu_msg_free(m);
    m = list(&w, anon, NULL, "Leeds");
    assert_int_equal(mu_value_len(mu_msg_get(m, "services")), 4); /* not York */
    mu_msg_free(m);
    m = list(&w, w.mem, "harm_reduction", "York");
    assert_int_equal(mu_value_len(mu_msg_get(m, "services")), 0);
    mu_msg_free(m);
    m = list(&w, w.mem, "harm_reduction", NULL);
    assert_int_equal(mu_value_len(mu_msg_get(m, "services")), 1);
    mu_msg_free(m);
    r = mu_req_new("services.list");
    mu_req_str(r, "category", "shop");
    call_expect(w.y, anon, r, "bad_request");

    /* update replaces every field; unknown ids */
    r = svc("service.update", "Needle & syringe programme", "harm_reduction", "Leeds", NULL);
    mu_req_int(r, "id", nx);
    m = cl_call(w.y, w.admin, r);
    expect_ok(m);
    assert_null(mu_value_get(mu_msg_get(m, "service"), "url"));
    mu_msg_free(m);
    r = svc("service.update", "X", "other", NULL, NULL);
    mu_req_int(r, "id", 9999);
    call_expect(w.y, w.admin, r, "not_found");
    r = svc("service.update", "X", "other", NULL, NULL);
    mu_req_int(r, "id", nx);
    call_expect(w.y, w.mem, r, "forbidden");
    r = mu_req_new("service.remove");
    mu_req_int(r, "id", nx);
    call_expect(w.y, w.mem, r, "forbidden");
    r = mu_req_new("service.remove");
    mu_req_int(r, "id", nx);
    call_expect(w.y, w.admin, r, "ok");
    r = mu_req_new("service.remove");
    mu_req_int(r, "id", nx);
    call_expect(w.y, w.admin, r, "not_found");
    m = list(&w, anon, "harm_reduction", NULL);
    assert_int_equal(mu_value_len(mu_msg_get(m, "services")), 0);
    mu_msg_free(m);
    world_down(&w);
}

/* Runs the import; its exit status, and its standard error in err. */
static int import(const srv_t *s, const char *csv, char *err, size_t errlen)
{
    char path[400], errpath[400], cmd[1400];
    snprintf(path, sizeof(path), "%s/services.csv", s->dir);
    snprintf(errpath, sizeof(errpath), "%s/import.err", s->dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(csv, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "'%s' services import '%s' --db '%s' >/dev/null 2>'%s'",
             MUTUALD_PATH, path, s->db, errpath);
    int rc = system(cmd);
    f = fopen(errpath, "r");
    assert_non_null(f);
    size_t n = fread(err, 1, errlen - 1, f);
    err[n] = '\0';
    fclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_import(void **st)
{
    (void)st;
    world w;
    world_up(&w, NULL, 0, NULL, NULL);
    char err[1024];
    /* the third record's url is bad: nothing of the file is imported */
    const char *bad = "name,category,description,phone,url,hours,region,referral\n"
                      "Samaritans,crisis,,116 123,https://www.samaritans.org,24/7,,\n"
                      "\"Forward, Leeds\",treatment,\"Drug and alcohol service\",,,,Leeds,"
                      "\"self-referral, drop in\"\n"
                      "Naloxone kits,harm_reduction,,,ftp://kits.example,,Leeds,\n";
    assert_int_equal(import(&w.s, bad, err, sizeof(err)), 1);
    assert_non_null(strstr(err, "line 4"));
    assert_non_null(strstr(err, "url"));
    mu_msg *m = list(&w, w.admin, NULL, NULL);
    assert_int_equal(mu_value_len(mu_msg_get(m, "services")), 0);
    mu_msg_free(m);
    /* a record with too few fields, a bad category, a bad header */
    assert_int_equal(import(&w.s, "name,category\nA,crisis\nB\n", err, sizeof(err)), 1);
    assert_non_null(strstr(err, "line 3"));
    assert_int_equal(import(&w.s, "name,category\nA,shop\n", err, sizeof(err)), 1);
    assert_non_null(strstr(err, "line 2"));
    assert_int_equal(import(&w.s, "name,kind\nA,crisis\n", err, sizeof(err)), 1);
    assert_non_null(strstr(err, "line 1"));
    assert_int_equal(import(&w.s, "name,category\n\"A,crisis\n", err, sizeof(err)), 1);
    m = list(&w, w.admin, NULL, NULL);
    assert_int_equal(mu_value_len(mu_msg_get(m, "services")), 0);
    mu_msg_free(m);

    /* fixed, with CRLF line ends and a line break in a quoted field: all of it, while the
     * server runs */
    const char *good = "\xEF\xBB\xBFname,category,description,phone,url,hours,region,referral\r\n"
                       "Samaritans,crisis,,116 123,https://www.samaritans.org,24/7,,\r\n"
                       "\"Forward, Leeds\",treatment,\"Drug and alcohol service\nfor adults\","
                       ",,,Leeds,\"self-referral, drop in\"\r\n"
                       "\r\n"
                       "Naloxone kits,harm_reduction,,,https://kits.example,,Leeds,\r\n";
    assert_int_equal(import(&w.s, good, err, sizeof(err)), 0);
    m = list(&w, w.admin, NULL, NULL);
    const mu_value *s = mu_msg_get(m, "services");
    assert_int_equal(mu_value_len(s), 3);
    assert_string_equal(name_at(m, 0), "Samaritans");
    assert_string_equal(name_at(m, 1), "Forward, Leeds");
    assert_string_equal(mu_value_get_str(mu_value_at(s, 1), "description"),
                        "Drug and alcohol service\nfor adults");
    assert_string_equal(mu_value_get_str(mu_value_at(s, 1), "referral"), "self-referral, drop in");
    assert_null(mu_value_get(mu_value_at(s, 0), "region"));
    mu_msg_free(m);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
