/* edaos DAOS API: the DAOS API level these headers follow (DAOS 2.6's client API). Programs
 * that test DAOS_API_VERSION_* pick the code paths of that release. EDAOS_DAOS_API says the
 * library behind them is edaos. */
#ifndef EDAOS_DAOS_VERSION_H
#define EDAOS_DAOS_VERSION_H

#define DAOS_API_VERSION_MAJOR 2
#define DAOS_API_VERSION_MINOR 6
#define DAOS_API_VERSION_FIX 0
#define DAOS_VERSION_MAJOR 2
#define DAOS_VERSION_MINOR 6
#define DAOS_VERSION_FIX 0
#define EDAOS_DAOS_API 1

#endif /* EDAOS_DAOS_VERSION_H */
