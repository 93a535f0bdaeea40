// MPI_File_set_info / set_view hints (ROMIO's ADIOI_DAOS_SetInfo): the hints module resolves
// them against the hints in effect; cb_nodes, cb_config_list and the layout stay fixed after
// open, as in ROMIO.
//
// Warnings: ROMIO ignores most bad hint values silently, and programs and test harnesses that
// treat extra output as a failure must run clean here too. So stderr gets only the warnings
// ROMIO itself would print or fail on (hints::romio_would_warn), or all of them under
// ROMIO_PRINT_HINTS (hints::stderr_warning_sink); the others go to the edaos log at info level
// of facility "hints" (EDAOS_LOG=hints=info shows them).
#include "adio_internal.hpp"
#include "edaos/objstore/log.h"

namespace edaos::adio {

void hint_warning_sink(const hints::Warning& w, int rank) {
  hints::stderr_warning_sink(w, rank);
  if (hints::romio_would_warn(w) || w.kind == hints::WarningKind::kUnknownKey) return;
  if (edaos_log_threshold("hints") <= EDAOS_LOG_INFO)
    edaos_log_emit(EDAOS_LOG_INFO, "hints", "%s", hints::to_string(w).c_str());
}

int ADIOI_EDAOS_SetInfo(File* f, MPI_Info info) {
  hints::CollectiveOptions ho;
  ho.previous = &f->hints;
  ho.print = 0;
  ho.features.data_sieving_writes = false;
  ho.features.deferred_open = false;
  ho.warning_sink = hint_warning_sink;
  ho.wait = [](MPI_Request* r) { return objstore::coll::wait(r); };
  auto h = hints::resolve_collective(f->comm, info, ho);
  if (!h.ok()) return make_error(MPI_ERR_NOT_SAME, f->filename + ": " + h.status().message());
  f->hints = std::move(h).value();
  return MPI_SUCCESS;
}

}  // namespace edaos::adio
