// The operations table of the edaos driver (ROMIO's ADIO_DAOS_operations in ad_daos.c).
#include "adio_internal.hpp"

namespace edaos::adio {

const AdioFns kEdaosFns = {
    ADIOI_EDAOS_Open,       ADIOI_EDAOS_Close,        ADIOI_EDAOS_Delete,
    ADIOI_EDAOS_ReadContig, ADIOI_EDAOS_WriteContig,  ADIOI_EDAOS_ReadList,
    ADIOI_EDAOS_WriteList,  ADIOI_EDAOS_ReadStrided,  ADIOI_EDAOS_WriteStrided,
    ADIOI_EDAOS_ReadColl,   ADIOI_EDAOS_WriteColl,    ADIOI_EDAOS_GetSize,
    ADIOI_EDAOS_Resize,     ADIOI_EDAOS_Preallocate,  ADIOI_EDAOS_Flush,
    ADIOI_EDAOS_SetInfo,    ADIOI_EDAOS_SetAtomicity, ADIOI_EDAOS_SharedFetchAdd,
    ADIOI_EDAOS_SharedSet,
};

}  // namespace edaos::adio
