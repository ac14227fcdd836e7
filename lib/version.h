/*
 * version - the one version string of postsift
 *
 * The GNUmakefile's VERSION is the only place the version is written; it
 * reaches the code as POSTSIFT_VERSION, and the programs ask for it here
 * (--version, X-Virus-Scanned, the daemons' start line).
 */
#ifndef POSTSIFT_VERSION_H
#define POSTSIFT_VERSION_H

/* version_string - "0.1.0" */
const char *version_string(void);

#endif
