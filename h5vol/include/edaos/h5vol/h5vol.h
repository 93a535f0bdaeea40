/* edaos HDF5 VOL connector: public C header.
 *
 * The connector stores an HDF5 "file" as a container of an edaos pool (see h5vol/README.md for
 * the mapping). Two ways to use it:
 *   - link libedaos_h5vol and call H5Pset_fapl_edaos() on a file access property list;
 *   - unmodified programs: HDF5_VOL_CONNECTOR=edaos HDF5_PLUGIN_PATH=<dir of libedaos_h5vol.so>.
 * The pool is $EDAOS_POOL, else $DAOS_POOL, else ./edaos-pool (created when missing).
 */
#ifndef EDAOS_H5VOL_H5VOL_H
#define EDAOS_H5VOL_H5VOL_H

#include <hdf5.h>
#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDAOS_H5VOL_API __attribute__((visibility("default")))

/** Connector name, as in HDF5_VOL_CONNECTOR. */
#define H5VL_EDAOS_NAME "edaos"
/** Connector value (HDF5's range for connectors under test). */
#define H5VL_EDAOS_VALUE 501
#define H5VL_EDAOS_VERSION 1

/** Registers the connector (once) and returns its ID; the caller closes it with H5VLclose. */
EDAOS_H5VOL_API hid_t H5VL_edaos_register(void);

/** Makes `fapl` use the edaos connector. `comm` is the communicator files opened through this
 *  fapl are collective over (it is not duplicated here: it must stay valid until those files
 *  are opened; each file keeps its own duplicate). `info` is kept for future hints (may be
 *  MPI_INFO_NULL). Not collective. Returns a negative value on error (HDF5 error stack set). */
EDAOS_H5VOL_API herr_t H5Pset_fapl_edaos(hid_t fapl, MPI_Comm comm, MPI_Info info);

#ifdef __cplusplus
}
#endif
#endif /* EDAOS_H5VOL_H5VOL_H */
