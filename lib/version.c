/*
 * version - the one version string of postsift (see version.h)
 */
#include "lib/version.h"

#ifndef POSTSIFT_VERSION
#error "POSTSIFT_VERSION is set by the GNUmakefile (VERSION)"
#endif

/* version_string - the version this tree was built as */
const char *version_string(void)
{
    return POSTSIFT_VERSION;
}
