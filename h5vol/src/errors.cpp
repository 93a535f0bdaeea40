// The connector's HDF5 error class: every failure is pushed under "edaos VOL".
#include "h5vol_internal.hpp"

namespace edaos::h5vol {
namespace {
hid_t g_cls = H5I_INVALID_HID, g_maj = H5I_INVALID_HID, g_min = H5I_INVALID_HID;
}  // namespace

bool errors_init() {
  if (g_cls >= 0) return true;
  g_cls = H5Eregister_class("edaos VOL", "edaos", "0.1");
  if (g_cls < 0) return false;
  g_maj = H5Ecreate_msg(g_cls, H5E_MAJOR, "edaos VOL connector");
  g_min = H5Ecreate_msg(g_cls, H5E_MINOR, "operation failed");
  return g_maj >= 0 && g_min >= 0;
}

void errors_term() {
  if (g_cls < 0) return;
  if (g_min >= 0) H5Eclose_msg(g_min);
  if (g_maj >= 0) H5Eclose_msg(g_maj);
  H5Eunregister_class(g_cls);
  g_cls = g_maj = g_min = H5I_INVALID_HID;
}

void push_error(const char* func, int line, const std::string& msg) {
  if (g_cls < 0 && !errors_init()) return;
  H5Epush2(H5E_DEFAULT, "h5vol", func, static_cast<unsigned>(line), g_cls, g_maj, g_min, "%s",
           msg.c_str());
}

void push_status(const char* func, int line, const Status& st, const std::string& what) {
  push_error(func, line, what + ": " + st.to_string());
}

}  // namespace edaos::h5vol
