/* Compiled by the op_name_* tests: with OP_NAME_RIGHT it names a real op and must compile;
 * without, it names a misspelt one and must not, which is what MU_OPNAME_* is for. */
#include "op_names.h"

const char *op_name_probe(void);

const char *op_name_probe(void)
{
#ifdef OP_NAME_RIGHT
    return MU_OPNAME_CHECKIN_SUBMIT;
#else
    return MU_OPNAME_CHECKIN_SUBMT;
#endif
}
