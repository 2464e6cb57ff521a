/* The schema and its migrations (see store_schema.h). Layer: storage, over the base. */
#include "store_schema.h"

#include <stdio.h>

#include "log.h"

static const char *const migrations[] = {
    /* 1: accounts and sessions */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  handle TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK (role IN ('member','family','mentor','admin')),"
    "  pwhash TEXT NOT NULL,"
    "  created_ts INTEGER NOT NULL"
    ");"
    "CREATE TABLE tokens ("
    "  hash BLOB PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  issued_ts INTEGER NOT NULL,"
    "  expires_ts INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX tokens_user ON tokens(user_id);"
    "CREATE INDEX tokens_expiry ON tokens(expires_ts);",

    /* 2: peer-mentor messaging. A user has at most one mentor (the primary key). A thread is
     * a pair that may read its history: made by an assignment or a first message, kept after
     * the assignment ends. Thread columns are ordered (lo < hi) so one index serves both
     * directions. */
    "CREATE TABLE assignments ("
    "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  mentor_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  since_ts INTEGER NOT NULL"
    ");"
    "CREATE INDEX assignments_mentor ON assignments(mentor_id);"
    "CREATE TABLE dm_threads ("
    "  lo_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  hi_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (lo_id, hi_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX dm_threads_hi ON dm_threads(hi_id);"
    "CREATE TABLE dms ("
    "  id INTEGER PRIMARY KEY,"
    "  lo_id INTEGER NOT NULL,"
    "  hi_id INTEGER NOT NULL,"
    "  from_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  to_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  ts INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  cid TEXT,"
    "  read INTEGER NOT NULL DEFAULT 0,"
    "  FOREIGN KEY (lo_id, hi_id) REFERENCES dm_threads(lo_id, hi_id) ON DELETE CASCADE"
    ");"
    "CREATE INDEX dms_thread ON dms(lo_id, hi_id, id);"
    "CREATE INDEX dms_unread ON dms(to_id, from_id, id) WHERE read = 0;"
    "CREATE UNIQUE INDEX dms_cid ON dms(from_id, to_id, cid) WHERE cid IS NOT NULL;",

    /* 3: daily check-ins, consent, alerts. One check-in per user per local day (`day` counts
     * days since 1970-01-01); `alerted` keeps which flags of that day already raised an alert,
     * across resubmissions. who5, barc10 and triggers are kept as their MessagePack arrays. */
    "CREATE TABLE checkins ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  day INTEGER NOT NULL,"
    "  tz INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  mood INTEGER NOT NULL,"
    "  craving INTEGER, sleep INTEGER, use TEXT, stage TEXT,"
    "  who5 BLOB, who5_pct INTEGER, barc10 BLOB, barc10_total INTEGER, triggers BLOB,"
    "  note TEXT,"
    "  flags INTEGER NOT NULL,"
    "  alerted INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (user_id, day)"
    ") WITHOUT ROWID;"
    "CREATE TABLE consent ("
    "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  share TEXT NOT NULL CHECK (share IN ('none','alerts','scores')),"
    "  ts INTEGER NOT NULL"
    ");"
    "CREATE TABLE consent_history ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  share TEXT NOT NULL,"
    "  ts INTEGER NOT NULL"
    ");"
    "CREATE INDEX consent_history_user ON consent_history(user_id);"
    "CREATE TABLE alerts ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  mentor_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  open INTEGER NOT NULL DEFAULT 1,"
    "  closed_ts INTEGER"
    ");"
    "CREATE INDEX alerts_mentor ON alerts(mentor_id, open, id);"
    "CREATE INDEX alerts_user ON alerts(user_id, mentor_id, open);"
    "CREATE TABLE missed_alerts ("
    "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  for_day INTEGER NOT NULL"
    ");",

    /* 4: group rooms and the moderation audit log. A room's next seq is one past the larger of
     * its newest held message and seq_floor, which a close that erases raises first, so that a
     * seq is never reused. The audit log has no foreign keys: it outlives rooms and people. */
    "CREATE TABLE rooms ("
    "  slug TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  audience TEXT NOT NULL CHECK (audience IN ('open','recovery','carers','mentors')),"
    "  format TEXT NOT NULL,"
    "  schedule BLOB,"
    "  capacity INTEGER NOT NULL,"
    "  persistent INTEGER NOT NULL,"
    "  is_open INTEGER NOT NULL DEFAULT 0,"
    "  seq_floor INTEGER NOT NULL DEFAULT 0,"
    "  created_ts INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE room_bans ("
    "  room TEXT NOT NULL REFERENCES rooms(slug) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (room, user_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE room_mutes ("
    "  room TEXT NOT NULL REFERENCES rooms(slug) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (room, user_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE room_messages ("
    "  room TEXT NOT NULL REFERENCES rooms(slug) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  from_handle TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  cid TEXT,"
    "  PRIMARY KEY (room, seq)"
    ") WITHOUT ROWID;"
    "CREATE UNIQUE INDEX room_messages_cid ON room_messages(room, user_id, cid) "
    "  WHERE cid IS NOT NULL;"
    "CREATE INDEX room_messages_user ON room_messages(user_id);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  ts INTEGER NOT NULL,"
    "  actor_id INTEGER,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target_id INTEGER,"
    "  target TEXT,"
    "  room TEXT"
    ");"
    "CREATE INDEX audit_ts ON audit(ts);",

    /* 5: what a meeting shows a joiner and its live state across a restart. `backlog` NULL
     * is the default, which follows `persistent`. room_joins keeps each member's first-join
     * point in the current meeting (the last seq they may not see), so that a reconnect or a
     * restart does not move it. The audit log's `detail` carries a new role or the mentor of
     * an assignment. */
    "ALTER TABLE rooms ADD COLUMN backlog TEXT CHECK (backlog IN ('join','recent'));"
    "ALTER TABLE rooms ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE rooms ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE rooms ADD COLUMN lobby INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE rooms ADD COLUMN floor_mode INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE room_joins ("
    "  room TEXT NOT NULL REFERENCES rooms(slug) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  after_seq INTEGER NOT NULL,"
    "  PRIMARY KEY (room, user_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX room_joins_user ON room_joins(user_id);"
    "ALTER TABLE audit ADD COLUMN detail TEXT;",

    /* 6: the recovery plan as rows, so a step can be ticked off on its own and
     * retention can reason about each part; the services directory; and what supervision
     * figures need from alerts: whether a close was an acknowledgement (an unassignment also
     * closes), and covering indexes over raise and close times, so a year of alerts costs
     * mentors.overview only the last 30 days' index entries. */
    "CREATE TABLE plans ("
    "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  updated_ts INTEGER NOT NULL"
    ");"
    "CREATE TABLE plan_goals ("
    "  user_id INTEGER NOT NULL REFERENCES plans(user_id) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  done INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, pos)"
    ") WITHOUT ROWID;"
    "CREATE TABLE plan_steps ("
    "  user_id INTEGER NOT NULL,"
    "  goal_pos INTEGER NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  done INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, goal_pos, pos),"
    "  FOREIGN KEY (user_id, goal_pos) REFERENCES plan_goals(user_id, pos) ON DELETE CASCADE"
    ") WITHOUT ROWID;"
    "CREATE TABLE plan_entries ("
    "  user_id INTEGER NOT NULL REFERENCES plans(user_id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('trigger','warning_sign','coping')),"
    "  pos INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  PRIMARY KEY (user_id, kind, pos)"
    ") WITHOUT ROWID;"
    "CREATE TABLE plan_people ("
    "  user_id INTEGER NOT NULL REFERENCES plans(user_id) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  phone TEXT,"
    "  note TEXT,"
    "  PRIMARY KEY (user_id, pos)"
    ") WITHOUT ROWID;"
    "CREATE TABLE services ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  category TEXT NOT NULL CHECK (category IN ('crisis','mutual_aid','treatment',"
    "    'harm_reduction','family','mental_health','housing','employment','other')),"
    "  description TEXT, phone TEXT, url TEXT, hours TEXT, region TEXT, referral TEXT"
    ");"
    "CREATE INDEX services_category ON services(category, name);"
    "ALTER TABLE alerts ADD COLUMN acked INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX alerts_raised ON alerts(mentor_id, ts, kind, closed_ts);"
    "CREATE INDEX alerts_acked ON alerts(mentor_id, closed_ts, ts) WHERE acked = 1;",

    /* 7: the running streak, kept by checkin.submit so that it need not read the user's whole
     * history (test_store replays it, and what follows, on a database with history). `current` is the
     * run of consecutive days ending at `last_day` (the latest check-in's day). Existing users get theirs from their check-ins: within a run of
     * consecutive days, day minus its rank is constant. */
    "CREATE TABLE streaks ("
    "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  last_day INTEGER NOT NULL,"
    "  current INTEGER NOT NULL,"
    "  best INTEGER NOT NULL"
    ");"
    "WITH g AS (SELECT user_id, day, day - row_number() OVER (PARTITION BY user_id ORDER BY day)"
    "             AS run FROM checkins),"
    "     r AS (SELECT user_id, run, count(*) AS len, max(day) AS end_day FROM g"
    "           GROUP BY user_id, run)"
    "INSERT INTO streaks (user_id, last_day, current, best)"
    "  SELECT user_id, max(end_day),"
    "         (SELECT len FROM r AS l WHERE l.user_id = r.user_id ORDER BY end_day DESC LIMIT 1),"
    "         max(len) FROM r GROUP BY user_id;",

    /* 8: reports and escalation. A report is an audit entry that carries the reported
     * message's seq, the reporter's reason and (in `detail`) a copy of the message's text; the
     * trigger erases that copy wherever the message itself goes (a meeting's close, the room's
     * deletion, its author's erasure), so the copy never outlives what was said. An alert may
     * have no mentor (a help request from someone without one goes straight to the admins),
     * which SQLite can only allow by rebuilding the table; `escalated_ts` says when it went to
     * the admins. */
    "ALTER TABLE audit ADD COLUMN seq INTEGER;"
    "ALTER TABLE audit ADD COLUMN reason TEXT;"
    "CREATE INDEX audit_report ON audit(room, seq) WHERE seq IS NOT NULL;"
    "CREATE TRIGGER room_messages_erase_reports AFTER DELETE ON room_messages BEGIN"
    "  UPDATE audit SET detail = NULL"
    "    WHERE room = old.room AND seq = old.seq AND action = 'report';"
    "END;"
    "CREATE TABLE alerts_new ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  mentor_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  open INTEGER NOT NULL DEFAULT 1,"
    "  closed_ts INTEGER,"
    "  acked INTEGER NOT NULL DEFAULT 0,"
    "  escalated_ts INTEGER"
    ");"
    "INSERT INTO alerts_new (id, user_id, mentor_id, kind, ts, detail, open, closed_ts, acked)"
    "  SELECT id, user_id, mentor_id, kind, ts, detail, open, closed_ts, acked FROM alerts;"
    "DROP TABLE alerts;"
    "ALTER TABLE alerts_new RENAME TO alerts;"
    "CREATE INDEX alerts_mentor ON alerts(mentor_id, open, id);"
    "CREATE INDEX alerts_user ON alerts(user_id, mentor_id, open);"
    "CREATE INDEX alerts_raised ON alerts(mentor_id, ts, kind, closed_ts);"
    "CREATE INDEX alerts_acked ON alerts(mentor_id, closed_ts, ts) WHERE acked = 1;"
    "CREATE INDEX alerts_due ON alerts(ts) WHERE open = 1 AND escalated_ts IS NULL;"
    "CREATE INDEX alerts_escalated ON alerts(open, id) WHERE escalated_ts IS NOT NULL;",

    /* 9: audit.list by action (the admins' list of reports), newest first, without reading
     * every other entry on a busy service. */
    "CREATE INDEX audit_action ON audit(action, ts);",
    /* 10: each opening of a room starts a new meeting, counted, so that nodes that hear of a
     * close late can tell the meeting it ended from one opened since. */
    "ALTER TABLE rooms ADD COLUMN meeting INTEGER NOT NULL DEFAULT 0;",
};

int store_schema_version(db_engine e)
{
    return e == DB_POSTGRESQL ? store_schema_pg_count
                              : (int)(sizeof(migrations) / sizeof(migrations[0]));
}

static int version_of(db_conn *db, const char *sql)
{
    db_stmt *st = db_prepare(db, sql);
    if (!st)
        return -1;
    db_rc rc = db_step(st);
    int v = rc == DB_ROW ? db_col_int(st, 0) : rc == DB_DONE ? 0 : -1;
    db_finalize(st);
    return v;
}

int store_schema_version_of(db_conn *db)
{
    return db_engine_of(db) == DB_POSTGRESQL ? version_of(db, "SELECT version FROM mutual_schema")
                                             : version_of(db, "PRAGMA user_version");
}

static int too_new(int have, int want, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "the database has schema version %d but this mutuald knows only up to %d; "
             "run a newer mutuald or restore a backup",
             have, want);
    return -1;
}

/* PostgreSQL: the version is a row, and the whole migration one transaction (its DDL is
 * transactional), under a lock so that nodes starting together migrate once. */
static int migrate_pg(db_conn *db, char *err, size_t errlen)
{
    int want = store_schema_version(DB_POSTGRESQL), have = -1;
    if (db_exec_quiet(db, "BEGIN") != DB_DONE ||
        db_exec_quiet(db, "SELECT pg_advisory_xact_lock(7366571)") != DB_DONE ||
        db_exec_quiet(db, "CREATE TABLE IF NOT EXISTS mutual_schema (version BIGINT NOT NULL)") !=
            DB_DONE ||
        (have = store_schema_version_of(db)) < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", db_errmsg(db));
        goto fail;
    }
    if (have > want) {
        too_new(have, want, err, errlen);
        goto fail;
    }
    for (int v = have; v < want; v++) {
        char setv[96];
        snprintf(setv, sizeof(setv),
                 v == 0 ? "INSERT INTO mutual_schema (version) VALUES (%d)"
                        : "UPDATE mutual_schema SET version = %d",
                 v + 1);
        if (db_exec_quiet(db, store_schema_pg[v]) != DB_DONE ||
            db_exec_quiet(db, setv) != DB_DONE) {
            snprintf(err, errlen, "migration to schema version %d failed: %s", v + 1,
                     db_errmsg(db));
            goto fail;
        }
    }
    if (db_exec_quiet(db, "COMMIT") != DB_DONE) {
        snprintf(err, errlen, "the schema migration failed to commit: %s", db_errmsg(db));
        goto fail;
    }
    if (want > have)
        log_info("database migrated to schema version %d", want);
    return 0;
fail:
    db_exec_quiet(db, "ROLLBACK");
    return -1;
}

int store_migrate(db_conn *db, char *err, size_t errlen)
{
    if (db_engine_of(db) == DB_POSTGRESQL)
        return migrate_pg(db, err, errlen);
    int have = store_schema_version_of(db), want = store_schema_version(DB_SQLITE);
    if (have < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", db_errmsg(db));
        return -1;
    }
    if (have > want)
        return too_new(have, want, err, errlen);
    for (int v = have; v < want; v++) {
        char setv[64];
        snprintf(setv, sizeof(setv), "PRAGMA user_version = %d;", v + 1);
        if (db_exec_quiet(db, "BEGIN IMMEDIATE") != DB_DONE ||
            db_exec_quiet(db, migrations[v]) != DB_DONE || db_exec_quiet(db, setv) != DB_DONE) {
            snprintf(err, errlen, "migration to schema version %d failed: %s", v + 1,
                     db_errmsg(db));
            db_exec_quiet(db, "ROLLBACK");
            return -1;
        }
        if (db_exec_quiet(db, "COMMIT") != DB_DONE) {
            snprintf(err, errlen, "migration to schema version %d failed to commit: %s", v + 1,
                     db_errmsg(db));
            db_exec_quiet(db, "ROLLBACK");
            return -1;
        }
        log_info("database migrated to schema version %d", v + 1);
    }
    return 0;
}
