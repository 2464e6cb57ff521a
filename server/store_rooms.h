/* The SQL of rooms, their messages, bans and mutes. Layer: storage. */
#ifndef MUTUAL_STORE_ROOMS_H
#define MUTUAL_STORE_ROOMS_H

#include <stdbool.h>
#include <stdint.h>

#include "roles.h"
#include "store.h"

typedef struct {
    const char *slug, *name, *audience, *format;
    const void *schedule;
    size_t schedule_len;
    int capacity;
    bool persistent, is_open;
    int64_t next_seq;
    const char *backlog; /* "join", "recent", or NULL: the default, which follows persistent */
    bool listed;
    bool locked, lobby, floor_mode; /* live state, read at startup only */
    int64_t created_ts;             /* read at startup; a new room's is its job's time */
    int64_t meeting;                /* how many times the room has been opened */
} room_def;

typedef void (*room_def_fn)(const room_def *d, void *ud);
/* Every stored room (startup), with its next seq. -1 on error. */
int store_rooms_load(db_conn *db, room_def_fn fn, void *ud);
/* One room (another node changed it): 1 with fn called, 0 no such room, -1 a failed read. */
int store_rooms_get(mu_reader *r, const char *slug, room_def_fn fn, void *ud);
typedef void (*room_user_fn)(const char *room, int64_t user, void *ud);
int store_rooms_load_bans(db_conn *db, room_user_fn fn, void *ud);
int store_rooms_load_mutes(db_conn *db, room_user_fn fn, void *ud);
typedef void (*room_point_fn)(const char *room, int64_t user, int64_t after_seq, void *ud);
/* Each member's first-join point in the current meeting of each room. */
int store_rooms_load_joins(db_conn *db, room_point_fn fn, void *ud);
/* One member's point (set by another node): 1 found, 0 none, -1 a failed read. */
int store_rooms_join_point(mu_reader *r, const char *room, int64_t user, int64_t *after);

typedef struct {
    int64_t seq, ts;
    const char *from, *text;
    size_t text_len;
} room_msg_row;
typedef void (*room_msg_fn)(const room_msg_row *m, void *ud);
/* The newest `limit` with seq < before (and > after), handed out oldest first. */
int store_rooms_msgs(mu_reader *r, const char *room, int64_t after, int64_t before, int limit,
                     room_msg_fn fn, void *ud);
int64_t store_rooms_msgs_count_after(mu_reader *r, const char *room, int64_t after,
                                     int64_t *min_seq);

/* Writer. */
mu_code store_rooms_insert(mu_wtx *w, const room_def *d, int64_t now);
mu_code store_rooms_update(mu_wtx *w, const room_def *d);
mu_code store_rooms_remove(mu_wtx *w, const char *slug);
/* Opens or closes the room; *meeting is the count of its meetings (an open of a closed room
 * starts the next). */
mu_code store_rooms_set_open(mu_wtx *w, const char *slug, bool open, int64_t *meeting);
/* Ends a meeting: mutes go; unless persistent, messages go and seq_floor keeps the count. */
mu_code store_rooms_end_meeting(mu_wtx *w, const char *slug, bool erase);
/* Stores a message under the room's next seq (*seq), given here in the write so that nodes
 * sharing the database never give one twice and commit a room's messages in seq order (the
 * job must hold the room's lock_key). MU_E_NOT_FOUND when the room is gone. */
mu_code store_rooms_msg_insert(mu_wtx *w, const char *room, int64_t ts, int64_t user,
                               const char *from, const char *text, size_t n, const char *cid,
                               size_t cid_len, int64_t *seq);
/* The user's message with this cid, if stored (a retry, through any node): 1 with its seq and
 * ts, 0 none, -1 a failed read. */
int store_rooms_find_cid_w(mu_wtx *w, const char *room, int64_t user, const char *cid, size_t n,
                           int64_t *seq, int64_t *ts);
/* A live state flag of the meeting, kept so that a restart does not drop it. */
typedef enum { ROOM_LOCKED, ROOM_LOBBY, ROOM_FLOOR_MODE } room_flag;
mu_code store_rooms_set_flag(mu_wtx *w, const char *slug, room_flag flag, bool on);
/* The meeting's first-join points: with `reset`, every point of the room goes first; then
 * each of the n users gets after_seq as their point (replacing one they had). */
mu_code store_rooms_set_joins(mu_wtx *w, const char *slug, bool reset, const int64_t *users,
                              size_t n, int64_t after_seq);
/* The two per-room lists of users that outlive a connection. */
typedef enum { ROOM_BANS, ROOM_MUTES } room_user_list;
/* Puts the user on the list (on) or takes them off; both are idempotent. */
mu_code store_rooms_user_set(mu_wtx *w, room_user_list list, const char *room, int64_t user,
                             bool on);

/* Before the user's messages go with their account: each room they spoke in keeps its count,
 * so that no seq is given twice. */
mu_code store_rooms_keep_seqs(mu_wtx *w, int64_t user);
/* Several nodes (PostgreSQL only): presence in rooms per node (in the room, or waiting at its
 * lobby), and the nodes' heartbeats. */
typedef enum { PRESENCE_OUT, PRESENCE_IN, PRESENCE_WAITING } presence_state;
mu_code store_rooms_presence_set(mu_wtx *w, const char *room, int64_t user, int64_t node,
                                 presence_state state);
/* This node's presence is exactly these n (room, user, waiting) triples. */
mu_code store_rooms_presence_put(mu_wtx *w, int64_t node, const char *const *rooms,
                                 const int64_t *users, const bool *waiting, size_t n);
/* The user waits at the room's lobby no more, through any node (admitted or denied); *was
 * says whether they waited anywhere. */
mu_code store_rooms_lobby_take(mu_wtx *w, const char *room, int64_t user, bool *was);
/* This node is alive (by the database's clock); nodes silent for stale_ms are forgotten, with
 * their presence. */
mu_code store_rooms_heartbeat(mu_wtx *w, int64_t node, int64_t stale_ms);
typedef void (*room_presence_fn)(const char *room, int64_t user, int64_t node, bool waiting,
                                 const char *handle, mu_role role, int64_t after, void *ud);
/* Everyone in a room or at its lobby through a node other than `self`, with their handle,
 * role and first-join point in the room (`after`, -1 when none is stored). These two loads read through the caller's connection (the fetcher's thread). */
int store_rooms_presence_load(mu_reader *r, int64_t self, room_presence_fn fn, void *ud);
/* Several nodes (PostgreSQL only; store_nodes.c): the floor and raised hands, stored so that
 * every node reads them in the order they were written. A user in a room through no node has
 * neither (their last presence's removal, or a dead node's, takes them). */
/* Raised or lowered through `node`; hands and the floor go with the node that raised or gave
 * them (the heartbeat's sweep). */
mu_code store_rooms_hand_set(mu_wtx *w, const char *room, int64_t user, bool up, int64_t node);
/* The floor to `user` (0: nobody) until `ends` (0: untimed), given through `node`, their hand
 * lowered. */
mu_code store_rooms_floor_set(mu_wtx *w, const char *room, int64_t user, int64_t ends,
                              int64_t node);
/* A meeting opens or closes: nobody has the floor, no hand is raised. */
mu_code store_rooms_live_clear(mu_wtx *w, const char *room);
/* The floor (`hand` false) and then the hands in raise order, of one room (NULL: of every
 * room, room by room). */
typedef void (*room_live_fn)(const char *room, bool hand, int64_t user, int64_t ends, void *ud);
int store_rooms_live_load(mu_reader *r, const char *room, room_live_fn fn, void *ud);

#endif
