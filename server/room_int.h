/* What the room files share, and nothing else includes (but their unit tests): the room
 * and the live state of its meeting, the registry, membership, fan-out, encoding, access, and
 * the job every room write rides on. rooms.c implements it (room_access.c the access checks,
 * room_job.c the job, room_deliver.c the delivery); room_schedule.c,
 * room_meeting.c and room_moderation.c build their ops on it, and room_feed.c renders the
 * listed rooms for meeting finders. Layer: concerns (rooms).
 *
 * The state functions work on connections alone (no request, no reply), so that the state
 * machine can be driven in a test with connections that have no socket. */
#ifndef MUTUAL_ROOM_INT_H
#define MUTUAL_ROOM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "context.h"
#include "dispatch.h"
#include "store_rooms.h"

#define ROOM_SLUG_MAX 32
#define ROOM_NAME_MAX 80
#define ROOM_FORMAT_MAX 40

typedef enum { AUD_OPEN, AUD_RECOVERY, AUD_CARERS, AUD_MENTORS } audience;
/* What a joiner may see. BACKLOG_DEFAULT follows `persistent` (recent when it is set). */
typedef enum { BACKLOG_DEFAULT, BACKLOG_JOIN, BACKLOG_RECENT } backlog_mode;

/* A small set of ids (users; nodes), in insertion order (hands are a queue in raise order). */
typedef struct {
    int64_t *v;
    size_t n, cap;
} id_list;

/* A user in a room (or waiting at its lobby), with every connection of theirs here that joined
 * and the other nodes where they are in the room too (room_presence.c; empty on SQLite). The
 * user is in the room while either has any. */
typedef struct {
    int64_t user;
    char handle[MU_HANDLE_MAX + 1];
    mu_role role;
    mu_conn **conns;
    size_t nconns, capconns;
    id_list nodes;
} member;

typedef struct {
    member *v;
    size_t n, cap;
} member_list;

/* Each member's first-join point in the current meeting: they may see only seq > after. */
typedef struct {
    int64_t user, after;
} join_point;

typedef struct {
    join_point *v;
    size_t n, cap;
} join_points;

typedef struct room {
    struct room *next;
    char slug[ROOM_SLUG_MAX + 1], name[ROOM_NAME_MAX + 1], format[ROOM_FORMAT_MAX + 1];
    audience aud;
    char *schedule; /* MessagePack array, or NULL */
    size_t schedule_len;
    int capacity;
    bool persistent, listed, is_open, locked, lobby, floor_mode;
    backlog_mode backlog;
    join_points joins;              /* kept in room_joins, so that a restart does not move them */
    int64_t floor_user, floor_ends; /* floor_ends 0: not timed */
    char floor_handle[MU_HANDLE_MAX + 1];
    uv_timer_t *floor_timer; /* room_moderation.c's; closed with the room */
    /* The newest seq this node's members have had (room_deliver): seqs are given in the
     * store's writes, by whichever node stores the message. */
    int64_t done_seq;
    int64_t meeting;    /* the count of its meetings, as stored: which one is open (or was last) */
    int live_pending;   /* room_live.c: this node's changes of the floor or hands on their way */
    uint64_t live_mark; /* room_live.c: when the last of them was made */
    struct room_fill *fill; /* room_deliver.c's reads for it, or NULL */
    member_list members, waiting;
    id_list hands, bans, mutes;
    /* When the room was created and last changed (the meeting feed's `updated`); the change
     * is kept in memory only, so after a restart it is the creation again. */
    int64_t created_ts, changed_ts;
    uint64_t serial; /* this process's, never reused: tags the room's events (mu_frame.room) */
} room;

/* ---- the registry ----------------------------------------------------------------------- */

room *rooms_first(void);
room *rooms_find(const char *slug, size_t n);
/* A new closed room from a stored or requested definition. */
room *rooms_add(const room_def *d);
/* Everyone in the room gets room.closed, everyone waiting room.denied; the room is freed. */
void rooms_delete(room *r);
/* name, format, schedule, capacity, persistent, backlog, listed. */
void room_set_def(room *r, const room_def *d);
const char *room_audience_name(audience a);
/* "join" or "recent": the backlog in effect (the default resolved). */
const char *room_backlog_name(const room *r);
/* The last seq the user may not see in history, since recovery and room.history: their
 * first-join point under backlog join (the newest seq when they have none), 0 under recent. */
int64_t room_visible_after(const room *r, int64_t user);
/* The user's first join of this meeting, unless they have one: the point is the newest
 * committed seq, kept in memory at once and in the store by a write of its own. */
void room_mark_join(room *r, int64_t user);
/* A meeting starts or ends: every point goes (the open's or close's write removed the stored
 * ones, whichever node made it), and the members here still in (facilitators across a close,
 * whoever is in at an open) start again from the newest seq. */
void room_restart_joins(room *r);
/* In memory only: a point loaded at startup, and an erased user's point gone. */
void room_put_join(room *r, int64_t user, int64_t after);
void room_forget_join(room *r, int64_t user);
bool room_admits(const room *r, mu_role role);
/* Mentors and admins whom the audience admits (every audience admits them). */
bool room_is_facilitator(mu_role role);

/* ---- id lists --------------------------------------------------------------------------- */

bool ids_has(const id_list *l, int64_t id);
/* Each returns whether the list changed. */
bool ids_add(id_list *l, int64_t id);
bool ids_del(id_list *l, int64_t id);

/* ---- membership ------------------------------------------------------------------------- */

member *room_member(room *r, int64_t user);
member *room_waiter(room *r, int64_t user);
member *room_member_by_handle(room *r, const char *handle);
member *room_waiter_by_handle(room *r, const char *handle);
bool member_has_conn(const member *m, const mu_conn *c);
/* The connection joins as `user`; a user new to the room is announced (room.presence). */
member *room_join_conn(room *r, mu_conn *c, int64_t user, const char *handle, mu_role role);
/* The connection waits at the lobby. True when its user was not waiting already (knock). */
bool room_wait_conn(room *r, mu_conn *c);
/* A user who waits at the lobby through another node only (room_presence.c). */
member *room_add_remote_waiter(room *r, int64_t user, const char *handle, mu_role role);
/* The waiting user's entry goes without a word (they wait through no node any more). */
void room_drop_waiter(room *r, member *w);
/* The waiting user waits no more: their entry, which owns its connection array (the caller
 * frees it); the connections still track the room. */
member room_take_waiter(room *r, member *w);
/* The one way a waiting user is turned away: room.denied to each of their connections, and
 * they wait no more (denied, removed, the meeting closed, the room deleted). */
void room_turn_away(room *r, member *w);
/* The user is out of the room: their hand and the floor go; presence `left` when `tell`. */
void room_member_out(room *r, member *m, bool tell);
/* One connection leaves (the user stays while another of theirs is in). */
void room_leave_conn(room *r, mu_conn *c);
/* A timed share that has run out returns the floor to nobody (room.state). */
void room_floor_expire(room *r);

/* ---- fan-out and encoding --------------------------------------------------------------- */

/* The room object. */
void room_enc(mu_enc *e, const room *r);
/* The seven state fields of room.state and of a join's `state`, without the map header. */
void room_enc_state_fields(mu_enc *e, const room *r);
/* One frame to every connection in the room but those of `except_user` (0: none); the
 * encoder is freed. */
void room_broadcast(const room *r, mu_enc *e, int64_t except_user);
void room_send_state(const room *r);
void room_send_moderation(const room *r, const char *action, const char *handle, const char *by);
/* An event of room `r` to each connection of one member or waiting user; the encoder is
 * freed. */
void room_send_to(const room *r, const member *m, mu_enc *e);
/* room.removed {room, by, ban} to each connection of the member. */
void room_send_removed(const room *r, const member *m, const char *by, bool ban);
/* {op: ev, room} to one member or waiting user. */
void room_send_event(const member *m, mu_op_id ev, const room *r);

/* ---- access: each replies and returns NULL on refusal ----------------------------------- */

/* The room named by the request's `room`, when it exists and admits the caller's role. */
room *room_access(mu_conn *c, mu_request *req);
/* The same, and the caller's user is in the room. */
room *room_joined(mu_conn *c, mu_request *req);
/* The same, and the caller is a facilitator. */
room *room_facilitated(mu_conn *c, mu_request *req);

/* ---- the job every room write rides on -------------------------------------------------- */

typedef struct {
    mu_job job; /* first: the writer hands the job back */
    mu_conn *c; /* a reference, dropped by room_job_free */
    char slug[ROOM_SLUG_MAX + 1];
    int64_t actor_id, target_id, ts;
    char actor[MU_HANDLE_MAX + 1], target[MU_HANDLE_MAX + 1];
    const char *audit_action; /* the audit log's action, NULL for none */
} room_job;

/* A zeroed job of `size` bytes (a struct that starts with room_job) for the caller's op on
 * `slug`, its actor the connection's user, its time now. */
void *room_job_new(size_t size, mu_conn *c, const char *slug, const char *audit_action);
/* Frees the job (the caller frees what its own struct owns first). */
void room_job_free(room_job *o);
void room_job_submit(room_job *o, job_run_fn run, job_done_fn done);
/* Writer side: the job's audit entry, when it has one. */
mu_code room_job_audit(room_job *o, mu_wtx *w);
/* A run function for ops whose only write is their audit entry. */
mu_code room_job_run_audit(mu_job *j, mu_wtx *w);
/* What a room job changed, for the other nodes (room_remote.c applies it there). */
typedef enum {
    ROOM_CH_DEF = 1, /* created or updated: the definition is read again */
    ROOM_CH_DELETED,
    ROOM_CH_OPEN,
    ROOM_CH_CLOSE,
    ROOM_CH_FLAGS, /* lock, lobby or floor mode: read again */
    ROOM_CH_MUTE,
    ROOM_CH_UNMUTE,
    ROOM_CH_REMOVE,
    ROOM_CH_BAN,
    ROOM_CH_UNBAN,
    ROOM_CH_ADMIT, /* the user waits no more: in, where they waited */
    ROOM_CH_DENY,
} room_change;
/* Writer side: tells the other nodes, when the job commits (nothing on SQLite). */
mu_code room_job_tell(room_job *o, mu_wtx *w, room_change what);
/* Loop side, after the commit: the job's room, or NULL once the failure is answered (the
 * write failed, or the room went meanwhile). */
room *room_job_landed(room_job *o);

/* ---- across the room files -------------------------------------------------------------- */

/* room_schedule.c: a schedule list checked (false with a sentence in err) and packed as
 * normalised {day, time, end_time?, timezone?} slots (the caller frees *out). */
bool room_schedule_check(const msgpack_object *list, char *err, size_t cap);
void room_schedule_pack(const msgpack_object *list, char **out, size_t *len);

/* room_welcome.c: what a joiner sees. A join's history is read from this, taken on the loop
 * and read on any thread. */
typedef struct {
    char slug[ROOM_SLUG_MAX + 1];
    int64_t hidden, done_seq, since;
    bool has_since;
} room_history_ask;
void room_history_ask_of(room_history_ask *a, const room *r, int64_t user, bool has_since,
                         int64_t since);
/* History for a join: the last 50, or everything after `since` when it can be had; never
 * anything at or before what the room's backlog hides from them, nor after the newest message
 * this node had delivered when asked (what comes later reaches them as room.msg). An array in
 * `e`; -1 when a read failed. */
int room_history_read(mu_reader *rd, const room_history_ask *a, mu_enc *e, bool *recovered);
/* The fields before the history (room, members) and from the state on. */
void room_enc_join_head(mu_enc *e, const room *r);
void room_enc_join_state(mu_enc *e, const room *r);
/* Appends the parts encoded apart (head, history array, state) with the history's key; each
 * part is left empty. */
void room_enc_join_parts(mu_enc *e, mu_enc *head, mu_enc *history, mu_enc *state);
/* A stored message as a history item (a room_msg_fn; ud is the mu_enc). */
void room_enc_msg(const room_msg_row *m, void *ud);
/* room.admitted to `m`'s connections `conns`, just let in: their events wait (conn_hold) until
 * it goes, after its history is read off the loop. */
void room_send_admitted(room *r, member *m, mu_conn *const *conns, size_t n);
/* room_meeting.c: the meeting ends. Flags, floor, hands and mutes reset; everyone but the
 * facilitators gets room.closed and is out; whoever waits is turned away. */
void room_end_meeting(room *r);

/* room_deliver.c: the message `seq` has committed, here (`m` is it) or on another node (`m`
 * NULL): members get every message after the newest they had, up to it, in seq order and
 * once each, reading from the store what this node did not write. */
void room_deliver(room *r, int64_t seq, const room_msg_row *m);
/* room_deliver.c: another node's message `seq` in the room named `slug`; and, after the
 * listening connection was down, what was said meanwhile. */
void room_deliver_event(const char *slug, int64_t seq);
void room_deliver_catch_up(void);
/* room_deliver.c: the thread that reads for the rooms with several nodes (other nodes'
 * messages, presence, the floor and hands), NULL on SQLite. Its dones run in the order the
 * reads were asked for, so that what is read later is applied later. */
struct mu_fetcher *room_fetcher(void);
/* room_deliver.c: the room goes: what it kept for delivery goes with it. */
void room_deliver_forget(room *r);

/* room_moderation.c: the waiting user is let in: each of their connections joins and gets
 * room.admitted. */
void room_admit(room *r, member *w);
/* rooms.c: a user who is in the room through another node only, announced to the members
 * here (room.presence joined). */
member *room_add_remote(room *r, int64_t user, const char *handle, mu_role role);
/* room_live.c: with several nodes, a hand raised or lowered here, or the floor given here (as
 * it is now in `r`), is stored, and every node reads the room's floor and hands back; nothing
 * on SQLite. */
void room_live_hand(room *r, int64_t user, bool up);
void room_live_floor(room *r);
/* room_live.c: another node changed the room's floor or hands; and every room's, read again
 * (after a presence beat, and when this node listens again). */
void room_live_event(int64_t a, int64_t b, int64_t c, const char *slug);
void room_live_reread_all(void);
/* room_remote.c: with several nodes, the room as stored after this node's own change landed
 * (another node's change may have committed in between), read on the rooms' fetcher; a read
 * asked for before is then not applied. After a room is created or deleted here too. Nothing
 * on SQLite. */
void room_recheck(const char *slug);
/* room_remote.c: asks again for the room reads that failed (at each presence beat). */
void room_remote_retry(void);
/* room_presence.c: the user's first connection here joined the room or its lobby, or their
 * last one here left: the other nodes are told, and the store keeps it under this node's name. */
void room_presence_here(const room *r, int64_t user, presence_state state);
/* room_meeting.c: room.knock for the waiting user to the facilitators connected here. */
void room_knock(const room *r, const member *w);

/* room_moderation.c: the user is out of the room (and banned with `ban`): everyone sees the
 * moderation, their connections get room.removed, a waiting user is turned away. */
void room_remove_user(room *r, int64_t user, const char *handle, const char *by, bool ban);
/* room_moderation.c: gives the floor to a member (NULL: nobody), lowering their hand; with
 * secs, the share is timed. */
void room_give_floor(room *r, const member *m, uint64_t secs);
/* Raises or lowers the user's hand: whether it changed. */
bool room_set_hand(room *r, int64_t user, bool up);

#endif
