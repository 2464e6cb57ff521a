/* Allocation that cannot fail quietly. Layer: base (calls nothing of the server's).
 *
 * The server has no useful way on with a failed allocation in the middle of a request: a
 * half-done write or a dropped event would be worse than a restart under a supervisor. These
 * calls log what could not be had and abort, so that no path ever drops work silently. */
#ifndef MUTUAL_XALLOC_H
#define MUTUAL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Overflow-checked `count * size` bytes, for growing arrays. */
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrdup(const char *s);
/* A copy of n bytes with a NUL after them (the caller frees it). */
char *xmemdup0(const void *p, size_t n);
/* For memory another library failed to get (an encoder's buffer): the same message, abort. */
_Noreturn void xalloc_die(size_t n);

#endif
