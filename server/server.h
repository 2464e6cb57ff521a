/* The server's life: open the store, listen, run the loop, and shut down in order. Layer:
 * top (it wires every other part together; only main.c calls it). */
#ifndef MUTUAL_SERVER_H
#define MUTUAL_SERVER_H

#include "context.h"

/* Runs until a signal has shut the server down; 0 on a clean exit. */
int server_run(mu_server *s);

#endif
