// Pieces of the C API shared with other C entry points of the library (the namespace's dfs.h):
// the per-thread last-error message and access to the C++ object behind a container handle.
#pragma once

#include <memory>
#include <string>

#include "edaos/objstore/objstore.h"
#include "edaos/objstore/objstore.hpp"

namespace edaos::objstore::capi {

// Records `st` as the calling thread's last error (cleared when OK) and returns its code.
int record(const Status& st);
// Sets the calling thread's last-error message.
void record_message(const std::string& msg);
// The container behind a C handle (nullptr for a null handle).
std::shared_ptr<Container> container_of(edaos_os_cont_t* cont);

}  // namespace edaos::objstore::capi
