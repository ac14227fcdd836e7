/*
 * avscan - malware scanning backends: libclamav in-process, or clamd
 *
 * "clamav": one engine per AVSCAN, loaded from clamav_database_directory;
 * when that is empty, from the system directory (/var/lib/clamav) if it has
 * a database, else from the bundled test signatures (EICAR and the ClamAV
 * test file), and the log says so. An explicitly set directory that cannot
 * be loaded is an error, never a silent fallback.
 * "clamd:unix:/path,clamd:inet:host:port,...": INSTREAM to each server in
 * order until one answers; a server that fails is skipped for a minute
 * (AVSCAN_CLAMD_RETRY in avscan.c), and all are tried again at once when
 * every one of them is down. The down marks live in the AVSCAN: not for
 * sharing between threads.
 */
#ifndef POSTSIFT_AVSCAN_H
#define POSTSIFT_AVSCAN_H

#include <stddef.h>

#include "lib/vbuf.h"

#define AV_CLEAN    0
#define AV_VIRUS    1
#define AV_ERROR    (-1)

typedef struct AVSCAN AVSCAN;

/* avscan_open - set up the backend named by spec (var_scanner) with the
 * limits of the clamav_* settings; NULL with why in err */
AVSCAN *avscan_open(const char *spec, const char *dbdir, VBUF *err);

/* avscan_scan_fd - scan a whole file (from offset 0); AV_VIRUS puts the
 * signature name in virname; AV_ERROR puts why in err */
int avscan_scan_fd(AVSCAN *av, int fd, VBUF *virname, VBUF *err);

/* avscan_scan_mem - the same for bytes in memory */
int avscan_scan_mem(AVSCAN *av, const void *buf, size_t len, VBUF *virname, VBUF *err);

/* avscan_version - for X-Virus-Scanned: "ClamAV 1.4.6/27000" (engine and
 * signature version), or "clamd ClamAV 1.4.6/..." as clamd reports it */
const char *avscan_version(AVSCAN *av);

/* avscan_signatures - number of loaded signatures (0 for clamd) */
unsigned long avscan_signatures(const AVSCAN *av);

/* avscan_changed - 1 when the signatures on disk differ from the loaded
 * ones (cl_statchkdir() of the loaded directory; with the bundled test
 * signatures, a database appeared in the system directory), so that a
 * long-running process should load a new AVSCAN; 0 otherwise, and always 0
 * for clamd, which reloads by itself */
int avscan_changed(AVSCAN *av);

void avscan_close(AVSCAN *av);

/* avscan_tmpdir - this process's own directory for libclamav's temporary
 * files (spool_dir/clamtmp-RANDOM, locked while the process lives), or
 * NULL when it has none. It is made by the first "clamav" avscan_open()
 * of a process (or the first scan of a forked one) and removed when the
 * last one is closed or the process exits. */
const char *avscan_tmpdir(void);

/* avscan_tmpdir_remove - remove it now (a daemon worker before _exit) */
void avscan_tmpdir_remove(void);

/* avscan_heuristic_unchecked - 1 when a detection name means "could not be
 * inspected" (Heuristics.Encrypted.*, Heuristics.Limits.Exceeded.*) rather
 * than malware */
int avscan_heuristic_unchecked(const char *virname);

#endif
