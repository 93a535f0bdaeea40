// Umbrella header of the hints module: everything the MPI-IO driver needs.
//
// Typical use at MPI_File_open (collective):
//   auto hints = edaos::hints::resolve_collective(comm, info);   // reads ROMIO_HINTS, prints
//   if (!hints.ok()) -> MPI_ERR_NOT_SAME (message names the key)
//   hints->cb_buffer_size, hints->aggregators, ... ; MPI_File_get_info: to_mpi_info(*hints)
// At MPI_File_set_info / set_view: CollectiveOptions{.previous = &current} .
#pragma once

#include "edaos/hints/cb_config.hpp"
#include "edaos/hints/hintfile.hpp"
#include "edaos/hints/registry.hpp"
#include "edaos/hints/resolve.hpp"
#include "edaos/hints/share.hpp"
#include "edaos/hints/warning.hpp"
