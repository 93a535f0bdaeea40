// Plugin entry points: HDF5_VOL_CONNECTOR=edaos with HDF5_PLUGIN_PATH loads the library and
// asks for these two symbols.
#include <H5PLextern.h>

#include "h5vol_internal.hpp"

extern "C" {
__attribute__((visibility("default"))) H5PL_type_t H5PLget_plugin_type(void) {
  return H5PL_TYPE_VOL;
}
__attribute__((visibility("default"))) const void* H5PLget_plugin_info(void) {
  return &edaos::h5vol::g_class;
}
}
