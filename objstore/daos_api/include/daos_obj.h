/* edaos DAOS API: object-level declarations daos_fs.h and DAOS programs refer to. The object
 * and key-value I/O API of DAOS (daos_obj_open, daos_obj_update, ...) is not provided: programs
 * reach edaos's objects through DFS (daos_fs.h) or edaos's native API. */
#ifndef EDAOS_DAOS_OBJ_H
#define EDAOS_DAOS_OBJ_H

#include <daos_obj_class.h>
#include <daos_types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** Object open modes (accepted where DAOS takes them). */
#define DAOS_OO_RO (1U << 1)
#define DAOS_OO_RW (1U << 2)
#define DAOS_OO_EXCL (1U << 3)

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_OBJ_H */
