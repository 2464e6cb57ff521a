/* The Mutual wire protocol, version 1: the op table, the envelope, the codec.
 *
 * This is the one place that defines messages. The server and the client library both link
 * it. It knows nothing of sockets: bytes in, C structs out, and back. */
#ifndef MUTUAL_PROTO_H
#define MUTUAL_PROTO_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MU_PROTO_VERSION 1
#define MU_SUBPROTOCOL "mutual.v1"
#define MU_MAX_FIELDS 12
#define MU_HANDLE_MAX 32
#define MU_HANDLE_MIN 3

/* The closed list of error codes (PROTOCOL.md, Envelope). MU_OK is not a wire code. */
typedef enum {
    MU_OK = 0,
    MU_E_BAD_REQUEST,
    MU_E_UNKNOWN_OP,
    MU_E_UNAUTHENTICATED,
    MU_E_FORBIDDEN,
    MU_E_NOT_FOUND,
    MU_E_CONFLICT,
    MU_E_RATE_LIMITED,
    MU_E_TOO_LARGE,
    MU_E_ROOM_FULL,
    MU_E_CASELOAD_FULL,
    MU_E_UNAVAILABLE,
    MU_E_INTERNAL,
    MU_E__COUNT
} mu_code;

const char *mu_code_name(mu_code c);
/* MU_OK when the name is not a known code. */
mu_code mu_code_from_name(const char *name, size_t len);

/* ---- the op table ---------------------------------------------------------------------- */

typedef enum {
    MU_T_STR,    /* UTF-8 string; min/max are byte lengths */
    MU_T_HANDLE, /* a pseudonym: folded to lower case, 3..32 of a-z 0-9 _ . - */
    MU_T_SLUG,   /* a room slug: 1..32 of a-z 0-9 - */
    MU_T_DATE,   /* "YYYY-MM-DD", a real calendar date */
    MU_T_ENUM,   /* a string out of `values` */
    MU_T_UINT,   /* non-negative integer; min/max are values */
    MU_T_INT,    /* any integer; min/max are values */
    MU_T_BOOL,
    MU_T_ARRAY, /* min/max are element counts; elements of type `elem` within emin..emax */
    MU_T_ANY,   /* any value, checked by the handler (schedules) */
} mu_type;

/* Where a string's upper bound comes from when it is a server setting. */
typedef enum { MU_LIM_FIXED = 0, MU_LIM_TEXT, MU_LIM_NOTE } mu_limit_src;

typedef struct {
    const char *name;
    mu_type type;
    bool required;
    bool too_large; /* over the upper length bound is too_large, not bad_request */
    mu_limit_src max_src;
    int64_t min, max;
    mu_type elem; /* MU_T_ARRAY only */
    int64_t emin, emax;
    const char *const *values; /* MU_T_ENUM, and MU_T_ARRAY of MU_T_ENUM; NULL-terminated */
} mu_field;

enum {
    MU_OPF_PREAUTH = 1 << 0,   /* allowed before authentication */
    MU_OPF_EVENT = 1 << 1,     /* server-to-client event, not a request */
    MU_OPF_TESTCLOCK = 1 << 2, /* exists only when the server runs with --test-clock */
};

typedef struct {
    const char *name;
    unsigned flags;
    const mu_field *fields;
    unsigned nfields;
} mu_op;

/* Each op and event has a stable index in the table; handlers are keyed by it. */
typedef enum {
#define MU_OP(id, name, flags, fields) MU_OP_##id,
#include "ops.def"
#undef MU_OP
    MU_OP__COUNT
} mu_op_id;

const mu_op *mu_op_by_id(mu_op_id id);
const mu_op *mu_op_by_name(const char *name, size_t len);
mu_op_id mu_op_index(const mu_op *op);
/* Index of a named field in an op's field list, -1 when absent. */
int mu_op_field(const mu_op *op, const char *name);

/* ---- decoding -------------------------------------------------------------------------- */

typedef struct {
    bool present;
    union {
        struct {
            const char *p;
            uint32_t n;
        } s;                       /* STR, SLUG, DATE, ENUM: points into the frame */
        char h[MU_HANDLE_MAX + 1]; /* HANDLE: folded, NUL-terminated copy */
        int64_t i;                 /* INT */
        uint64_t u;                /* UINT */
        bool b;                    /* BOOL */
        const msgpack_object *o;   /* ARRAY, ANY */
    } v;
} mu_val;

typedef struct {
    uint32_t max_text;
    uint32_t max_note;
} mu_limits;

typedef struct {
    const mu_op *op;     /* NULL until the op is known */
    const char *op_name; /* as sent, for unknown_op messages; points into the frame */
    uint32_t op_len;
    uint64_t rid;
    bool has_rid;
    mu_val f[MU_MAX_FIELDS]; /* indexed as op->fields */
    msgpack_unpacked up;     /* owns the decoded tree that the values point into */
    bool up_live;
} mu_request;

typedef enum {
    MU_PARSE_OK,        /* a request for a known op; fields not yet validated */
    MU_PARSE_UNKNOWN,   /* well formed, but the op is not in the table */
    MU_PARSE_MALFORMED, /* not a request at all; rid filled in when the map had one */
} mu_parse_result;

/* An error with its code and a human sentence. */
typedef struct {
    mu_code code;
    char msg[160];
} mu_error;

void mu_request_init(mu_request *r);
void mu_request_free(mu_request *r);
/* Reads one frame. Decoded strings point into `buf`, which must outlive the request. */
mu_parse_result mu_request_parse(mu_request *r, const void *buf, size_t len, mu_error *err);
/* Checks every field of a parsed request against the op table. */
mu_code mu_request_validate(mu_request *r, const mu_limits *lim, mu_error *err);

void mu_error_set(mu_error *e, mu_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Accessors for validated fields, by name; a missing name is a programming error. */
const mu_val *mu_req_field(const mu_request *r, const char *name);
bool mu_req_has(const mu_request *r, const char *name);

/* ---- primitives ------------------------------------------------------------------------ */

bool mu_utf8_valid(const char *s, size_t n);
/* Whether the MessagePack value at the start of buf declares no string, binary or container
 * longer than the bytes that remain could hold: checked before msgpack-c sees untrusted
 * bytes, since it allocates what a header declares. */
bool mu_msgpack_bounded(const void *buf, size_t len);
/* Folds ASCII upper case to lower and checks the handle rule; out must hold 33 bytes. */
bool mu_handle_fold(const char *in, size_t n, char out[MU_HANDLE_MAX + 1]);
bool mu_slug_valid(const char *s, size_t n);
/* "YYYY-MM-DD" of a real calendar date; days since 1970-01-01 in *days when not NULL. */
bool mu_date_parse(const char *s, size_t n, int32_t *days);
void mu_date_format(int32_t days, char out[11]);

/* ---- generic access to decoded maps (used by the client library and tests) ------------- */

const msgpack_object *mu_map_get(const msgpack_object *map, const char *key);
bool mu_obj_str_eq(const msgpack_object *o, const char *s);

/* ---- encoding -------------------------------------------------------------------------- */

/* An encoder writes one MessagePack map into a growable buffer. `reserve` bytes are kept free
 * at the front so the server can put a WebSocket header there without copying. An encoder
 * never drops bytes: when its buffer cannot grow, the process stops with a message. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    size_t reserve;
} mu_enc;

void mu_enc_init(mu_enc *e, size_t reserve);
void mu_enc_free(mu_enc *e);
/* Hands the buffer to the caller (free() it); the encoder is empty afterwards. */
char *mu_enc_release(mu_enc *e, size_t *len);
const char *mu_enc_payload(const mu_enc *e, size_t *len);

void mu_enc_map(mu_enc *e, uint32_t n);
void mu_enc_array(mu_enc *e, uint32_t n);
void mu_enc_str(mu_enc *e, const char *s);
void mu_enc_strn(mu_enc *e, const char *s, size_t n);
void mu_enc_uint(mu_enc *e, uint64_t v);
void mu_enc_int(mu_enc *e, int64_t v);
void mu_enc_bool(mu_enc *e, bool v);
void mu_enc_nil(mu_enc *e);
void mu_enc_double(mu_enc *e, double v);
void mu_enc_obj(mu_enc *e, const msgpack_object *o);
/* Appends bytes that are already one MessagePack value (a stored blob), as they are. */
void mu_enc_raw(mu_enc *e, const void *p, size_t n);
/* Appends what another encoder holds (its payload) as they are, and frees that encoder. */
void mu_enc_append(mu_enc *e, mu_enc *part);
/* key then value */
void mu_enc_kstr(mu_enc *e, const char *k, const char *v); /* v NULL: nil */
void mu_enc_kstrn(mu_enc *e, const char *k, const char *v, size_t n);
void mu_enc_kuint(mu_enc *e, const char *k, uint64_t v);
void mu_enc_kint(mu_enc *e, const char *k, int64_t v);
void mu_enc_kbool(mu_enc *e, const char *k, bool v);
void mu_enc_knil(mu_enc *e, const char *k);
void mu_enc_key(mu_enc *e, const char *k);

/* Starts `{op:"reply", rid, ok:true, ...}` with room for `nfields` more pairs. */
void mu_enc_reply_ok(mu_enc *e, uint64_t rid, uint32_t nfields);
/* A whole error reply; without a rid when has_rid is false. */
void mu_enc_reply_err(mu_enc *e, bool has_rid, uint64_t rid, mu_code code, const char *msg);
/* Starts `{op:<event>, ...}` with room for `nfields` more pairs. */
void mu_enc_event(mu_enc *e, mu_op_id ev, uint32_t nfields);
/* Starts a request `{op, rid, ...}` with room for `nfields` more pairs (client side). */
void mu_enc_request(mu_enc *e, const char *op, uint64_t rid, uint32_t nfields);

#endif
