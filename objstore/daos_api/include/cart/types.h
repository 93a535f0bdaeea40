/* edaos DAOS API: DAOS's cart/types.h carries the rank and I/O vector types, which edaos keeps
 * in gurt/types.h. */
#ifndef EDAOS_DAOS_CART_TYPES_H
#define EDAOS_DAOS_CART_TYPES_H
#include <gurt/types.h>
#endif /* EDAOS_DAOS_CART_TYPES_H */
