/* edaos status codes: one list, generated into the C enum and the name/description tables.
 *
 * Codes are negative and live in a private range (-4000 ..), so they never collide with errno
 * values or MPI error classes. A released code keeps its value forever: add new codes at the end.
 * This header compiles as C and as C++. */
#ifndef EDAOS_OBJSTORE_STATUS_H
#define EDAOS_OBJSTORE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EDAOS_BUILDING_LIBRARY)
#define EDAOS_API __attribute__((visibility("default")))
#else
#define EDAOS_API
#endif

/* X(name, value, description) */
#define EDAOS_STATUS_LIST(X)                                             \
  X(OK, 0, "success")                                                    \
  X(INVAL, -4001, "invalid argument")                                    \
  X(NOSPACE, -4002, "no space left in the pool")                         \
  X(DEGRADED, -4003, "too many engines lost to reconstruct the data")    \
  X(REMOTE, -4004, "operation failed on another rank")                   \
  X(NOMEM, -4005, "out of memory")                                       \
  X(INTERNAL, -4006, "internal error")                                   \
  X(NONEXIST, -4007, "no such entry")                                    \
  X(EXIST, -4008, "entry already exists")                                \
  X(IO, -4009, "input/output error")                                     \
  X(CSUM, -4010, "checksum mismatch")                                    \
  X(BUSY, -4011, "resource in use")                                      \
  X(NOTSUP, -4012, "operation not supported")                            \
  X(PERM, -4013, "permission denied")                                    \
  X(UNREACH, -4014, "engine unreachable")                                \
  X(PROTO, -4015, "protocol version mismatch")                           \
  X(NOTDIR, -4016, "not a directory")                                    \
  X(ISDIR, -4017, "is a directory")                                      \
  X(NOTEMPTY, -4018, "directory not empty")                              \
  X(NAMETOOLONG, -4019, "name too long")                                 \
  X(NOTINIT, -4020, "library not initialized")                           \
  X(SHUTDOWN, -4021, "service shutting down")                            \
  X(TOOBIG, -4022, "value too large")                                    \
  X(FORMAT, -4023, "unsupported or corrupt on-disk format")              \
  X(NOENGINE, -4024, "class needs more fault domains than the pool has") \
  X(RDONLY, -4025, "read-only")                                          \
  X(CANCELED, -4026, "operation canceled")                               \
  X(LOOP, -4027, "too many levels of symbolic links")                    \
  X(XDEV, -4028, "cross-container operation")

typedef enum {
#define EDAOS_STATUS_ENUM_(name, value, desc) EDAOS_##name = value,
  EDAOS_STATUS_LIST(EDAOS_STATUS_ENUM_)
#undef EDAOS_STATUS_ENUM_
} edaos_status_t;

/** Short upper-case name of a code, e.g. "NOSPACE". Unknown codes give "UNKNOWN". The string is
 *  static (never free it). Thread-safe, needs no initialization. */
EDAOS_API const char *edaos_status_name(int code);

/** One-line English description of a code. Unknown codes give "unknown status". Static string;
 *  thread-safe, needs no initialization. */
EDAOS_API const char *edaos_status_describe(int code);

#ifdef __cplusplus
}
#endif
#endif /* EDAOS_OBJSTORE_STATUS_H */
