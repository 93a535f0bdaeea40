// MPI_File_set_info / set_view hints (ROMIO's ADIOI_DAOS_SetInfo): the hints module resolves
// them against the hints in effect; cb_nodes, cb_config_list and the layout stay fixed after
// open, as in ROMIO.
#include "adio_internal.hpp"

namespace edaos::adio {

int ADIOI_EDAOS_SetInfo(File* f, MPI_Info info) {
  hints::CollectiveOptions ho;
  ho.previous = &f->hints;
  ho.print = 0;
  ho.features.data_sieving_writes = false;
  ho.features.deferred_open = false;
  auto h = hints::resolve_collective(f->comm, info, ho);
  if (!h.ok()) return make_error(MPI_ERR_NOT_SAME, f->filename + ": " + h.status().message());
  f->hints = std::move(h).value();
  return MPI_SUCCESS;
}

}  // namespace edaos::adio
