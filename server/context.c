/* The process-wide context (see context.h).
 * Layer: context, over storage; it names the shared parts and calls none of them. */
#include "context.h"

mu_server *g_srv;
