/* variant.c — the symbol that names this library variant (oblique/common.h,
 * OBQ_VARIANT_SYMBOL): code compiled for another variant fails to link against it. */
#include <oblique/common.h>

const char OBQ_VARIANT_SYMBOL = 1;
