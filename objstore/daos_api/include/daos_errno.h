/* edaos DAOS API: DAOS error numbers (DER_*).
 *
 * daos_* calls return 0 or a *negative* DER code (-DER_NONEXIST); dfs_* calls return 0 or a
 * positive errno value. The numeric values are DAOS's, so a code printed by an edaos program
 * means the same as in DAOS's documentation. Only the codes edaos can return, plus a few that
 * DAOS programs commonly test for, are defined. */
#ifndef EDAOS_DAOS_ERRNO_H
#define EDAOS_DAOS_ERRNO_H

#if defined(__cplusplus)
extern "C" {
#endif

/* X(name, value, description) */
#define EDAOS_DER_LIST(X)                                                     \
  X(DER_NO_PERM, 1001, "Operation not permitted")                             \
  X(DER_NO_HDL, 1002, "Invalid handle")                                       \
  X(DER_INVAL, 1003, "Invalid parameters")                                    \
  X(DER_EXIST, 1004, "Entity already exists")                                 \
  X(DER_NONEXIST, 1005, "The specified entity does not exist")                \
  X(DER_UNREACH, 1006, "Unreachable node")                                    \
  X(DER_NOSPACE, 1007, "No space on storage target")                          \
  X(DER_ALREADY, 1008, "Operation already performed")                         \
  X(DER_NOMEM, 1009, "Out of memory")                                         \
  X(DER_NOSYS, 1010, "Function not implemented")                              \
  X(DER_TIMEDOUT, 1011, "Time out")                                           \
  X(DER_BUSY, 1012, "Device or resource busy")                                \
  X(DER_AGAIN, 1013, "Try again")                                             \
  X(DER_PROTO, 1014, "Incompatible protocol")                                 \
  X(DER_UNINIT, 1015, "Device or resource not initialized")                   \
  X(DER_TRUNC, 1016, "Buffer too short")                                      \
  X(DER_OVERFLOW, 1017, "Data too long for defined data type or buffer size") \
  X(DER_CANCELED, 1018, "Operation canceled")                                 \
  X(DER_MISC, 1025, "Miscellaneous error")                                    \
  X(DER_BADPATH, 1026, "Bad path name")                                       \
  X(DER_NOTDIR, 1027, "Not a directory")                                      \
  X(DER_MISMATCH, 1031, "Version mismatch")                                   \
  X(DER_IO, 2001, "I/O error")                                                \
  X(DER_ENOENT, 2003, "Entity not found")                                     \
  X(DER_KEY2BIG, 2012, "Key is too large")                                    \
  X(DER_REC2BIG, 2013, "Record is too large")                                 \
  X(DER_EQ_BUSY, 2015, "Event queue is busy")                                 \
  X(DER_SHUTDOWN, 2017, "Service should shut down")                           \
  X(DER_CSUM, 2021, "Checksum error")                                         \
  X(DER_DF_INVAL, 2022, "Unsupported durable format")                         \
  X(DER_DF_INCOMPT, 2023, "Incompatible durable format version")              \
  X(DER_DATA_LOSS, 2026, "Data lost or not recoverable")                      \
  X(DER_RF, 2031, "Failures exceed RF")                                       \
  X(DER_NOTSUPPORTED, 2037, "Operation not supported")

enum daos_errno {
  DER_SUCCESS = 0,
  DER_ERR_GURT_BASE = 1000,
  DER_ERR_DAOS_BASE = 2000,
#define EDAOS_DER_ENUM_(name, value, desc) name = value,
  EDAOS_DER_LIST(EDAOS_DER_ENUM_)
#undef EDAOS_DER_ENUM_
      DER_UNKNOWN = DER_ERR_GURT_BASE + 500000,
};

/** Name of a code ("DER_NONEXIST"); the sign is ignored. Unknown codes give "DER_UNKNOWN". */
const char *d_errstr(int errnum);
/** Description of a code ("The specified entity does not exist"); the sign is ignored. An
 *  unknown code gives "Unknown error <n>" (the text lives in a per-thread buffer). */
const char *d_errdesc(int errnum);

#ifndef DF_RC
/** printf helpers: printf("failed: " DF_RC "\n", DP_RC(rc)). */
#define DF_RC "%s(%d): '%s'"
#define DP_RC(rc) d_errstr(rc), rc, d_errdesc(rc)
#endif

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_ERRNO_H */
