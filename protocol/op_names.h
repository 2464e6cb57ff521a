/* The wire names of every op and event, generated from ops.def: MU_OPNAME_LOGIN is "login".
 * Clients spell ops through these constants so that a misspelt op is a compile error rather
 * than an `unknown_op` reply at run time. Header-only: nothing to link. */
#ifndef MUTUAL_OP_NAMES_H
#define MUTUAL_OP_NAMES_H

#define MU_OP(id, name, flags, fields) static const char MU_OPNAME_##id[] = name;
#include "ops.def"
#undef MU_OP

#endif
