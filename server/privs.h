/*
 * privs - the user a server runs as, and the drop to it
 *
 * The user is looked up before anything else happens; uid 0 is refused.
 * Started as root, the server becomes that user once it has bound its
 * sockets and taken its pid file; started as anyone else it cannot
 * change identity, so the user must be that very one (files it makes
 * would otherwise get the wrong owner).
 */
#ifndef POSTSIFT_PRIVS_H
#define POSTSIFT_PRIVS_H

#include <sys/types.h>

typedef struct PRIVS {
    uid_t   uid;
    gid_t   gid;
    char   *name;
    int     drop;                       /* started as root: change user */
} PRIVS;

/* privs_lookup - the user named user (param: the setting, for messages);
 * fatal when it cannot be ours */
void    privs_lookup(PRIVS *id, const char *user, const char *param);

/* privs_drop - groups, gid, uid; then make sure root cannot come back */
void    privs_drop(const PRIVS *id);

/* privs_free - release */
void    privs_free(PRIVS *id);

#endif
