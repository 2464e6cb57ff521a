/* The server's life: open the store, listen, run the loop, and shut down in order. Layer:
 * top (it wires every other part together; only main.c calls it). */
#ifndef MUTUAL_SERVER_H
#define MUTUAL_SERVER_H

#include "context.h"

/* Runs until a signal has shut the server down; 0 on a clean exit. */
int server_run(mu_server *s);

/* Binds the listen address (HOST:PORT) once and lets it go, before anything is opened, so
 * that a port already taken stops the start with one line on stderr. -1 when it cannot be
 * bound; 0 otherwise (an address it cannot parse is left to the transport to judge). */
int server_probe_listen(const char *listen);

#endif
