#include "context.h"

mu_server *g_srv;
