/* The types that db.h and the engines behind it (db_int.h) share.
 * Layer: storage, over the base. */
#ifndef MUTUAL_DB_TYPES_H
#define MUTUAL_DB_TYPES_H

typedef struct db_conn db_conn;
typedef struct db_stmt db_stmt;
/* db_on_commit's: the write-ahead log's length in pages after a commit. */
typedef void (*db_commit_fn)(void *ud, int frames);

/* What db_step and db_exec return. Errors are negative and say what a caller can act on. */
typedef enum {
    DB_DONE = 0,           /* the statement ran to its end */
    DB_ROW = 1,            /* a row is ready to read */
    DB_E_CONSTRAINT = -1,  /* a unique or check constraint refused the write */
    DB_E_FOREIGN_KEY = -2, /* a referenced row does not exist */
    DB_E_UNAVAILABLE = -3, /* the disk or the connection failed: try again later */
    DB_E_INTERRUPTED = -4, /* db_interrupt, or the stop flag, ended it */
    DB_E_BUSY = -5,        /* another writer held the database past the timeout */
    DB_E_OTHER = -6        /* a mistake in the SQL or a corrupt database (logged) */
} db_rc;

enum {
    DB_OPEN_READONLY = 1, /* refuses writes */
    DB_OPEN_CREATE = 2,   /* makes the database when it does not exist */
};

typedef enum { DB_SQLITE, DB_POSTGRESQL } db_engine;

/* For a column of no fixed type (a report's cells): which of these it holds. */
typedef enum { DB_T_NULL, DB_T_INT, DB_T_REAL, DB_T_TEXT, DB_T_BLOB } db_type;

#endif
