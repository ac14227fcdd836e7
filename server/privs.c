/*
 * privs - the user a server runs as (see privs.h)
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/printable.h"
#include "server/privs.h"

/* privs_lookup - see privs.h */
void    privs_lookup(PRIVS *id, const char *user, const char *param)
{
    struct passwd *pw;
    char    shown[256];

    printable_copy(shown, sizeof(shown), user, PRINTABLE_ALL, 0);
    if (*user == 0)
        msg_fatal("%s is empty", param);
    errno = 0;
    if ((pw = getpwnam(user)) == NULL)
        msg_fatal("%s %s: no such user%s%s", param, shown, errno ? ": " : "",
                  errno ? strerror(errno) : "");
    if (pw->pw_uid == 0)
        msg_fatal("%s %s has uid 0: the daemon never serves as root", param, shown);
    id->uid = pw->pw_uid;
    id->gid = pw->pw_gid;
    id->name = mystrdup(pw->pw_name);
    id->drop = (geteuid() == 0);
    if (!id->drop && id->uid != geteuid())
        msg_fatal("started as uid %ld, not root: cannot become %s %s; "
                  "start as root, or set %s to this user", (long)geteuid(), param, shown,
                  param);
}

/* privs_drop - see privs.h */
void    privs_drop(const PRIVS *id)
{
    uid_t   ru, eu, su;
    gid_t   rg, eg, sg;

    if (id->drop) {
        if (initgroups(id->name, id->gid) < 0)
            msg_fatal("initgroups(%s): %s", id->name, strerror(errno));
        if (setresgid(id->gid, id->gid, id->gid) < 0)
            msg_fatal("setresgid(%ld): %s", (long)id->gid, strerror(errno));
        if (setresuid(id->uid, id->uid, id->uid) < 0)
            msg_fatal("setresuid(%ld): %s", (long)id->uid, strerror(errno));
        if (setuid(0) == 0 || seteuid(0) == 0)
            msg_panic("could become root again after dropping privileges");
    }
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
        msg_fatal("getresuid/getresgid: %s", strerror(errno));
    if (ru == 0 || eu == 0 || su == 0)
        msg_fatal("still root after dropping privileges: refusing to serve");
    if (id->drop && (ru != id->uid || eu != id->uid || su != id->uid
                     || rg != id->gid || eg != id->gid || sg != id->gid))
        msg_fatal("privileges not dropped to %s as asked", id->name);
}

/* privs_free - see privs.h */
void    privs_free(PRIVS *id)
{
    myfree(id->name);
    id->name = NULL;
}
