/*
 * postconf - what the linter reads of Postfix: postconf -n, -x, -M and
 * -P of the instance, "postmap -s" for tables it cannot read itself, and
 * whether a program is there; with --snapshot, the saved files instead.
 *
 * postconf and postmap run without a shell, in a session of their own,
 * with a clean environment, output bounded and a time limit (then the
 * whole process group is killed). Their warnings (stderr) are dropped.
 *
 * A snapshot directory holds (docs/DESIGN.md, postsift-postfix(8)):
 *   postconf-n, postconf-M, postconf-P   required: postconf -n, -M, -Px
 *   postconf-x                           optional: postconf -x; without
 *                                        it, the defaults below plus -n
 *   maps/PATH                            the source of table PATH
 *   programs                             the programs that exist there
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "lib/mymalloc.h"

#define PC_TIMEOUT  60                          /* s for one postconf run */
#define PC_OUT_MAX  (16 * 1024 * 1024)          /* bytes of its output */
#define PC_PATH     "/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * Postfix 3.7's defaults of the main.cf parameters that the rules read,
 * for a snapshot without postconf-x ($name is expanded against them).
 */
static const char *const pc_defaults[][2] = {
    {"body_checks", ""},
    {"cleanup_service_name", "cleanup"},
    {"command_time_limit", "1000s"},
    {"content_filter", ""},
    {"default_destination_concurrency_limit", "20"},
    {"default_destination_recipient_limit", "50"},
    {"default_process_limit", "100"},
    {"header_checks", ""},
    {"lmtp_data_done_timeout", "600s"},
    {"lmtp_send_xforward_command", "no"},
    {"mime_header_checks", "$header_checks"},
    {"myhostname", "localhost"},
    {"nested_header_checks", "$header_checks"},
    {"non_smtpd_milters", ""},
    {"receive_override_options", ""},
    {"smtp_data_done_timeout", "600s"},
    {"smtp_send_xforward_command", "no"},
    {"smtpd_authorized_xforward_hosts", ""},
    {"smtpd_client_restrictions", ""},
    {"smtpd_data_restrictions", ""},
    {"smtpd_end_of_data_restrictions", ""},
    {"smtpd_helo_restrictions", ""},
    {"smtpd_milters", ""},
    {"smtpd_proxy_filter", ""},
    {"smtpd_proxy_timeout", "100s"},
    {"smtpd_recipient_restrictions", ""},
    {"smtpd_relay_restrictions",
     "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"},
    {"smtpd_restriction_classes", ""},
    {"smtpd_sender_restrictions", ""},
};

/* pc_find - a program in PC_PATH, then in $PATH, into path; -1 when
   there is none */
static int pc_find(const char *prog, char *path, size_t len)
{
    const char *dirs[2] = {PC_PATH, getenv("PATH")};
    const char *dir, *end;
    struct stat st;
    int     i, n;

    if (strchr(prog, '/'))
        return (snprintf(path, len, "%s", prog) < (int)len && stat(prog, &st) == 0
                && S_ISREG(st.st_mode) && access(prog, X_OK) == 0) ? 0 : -1;
    for (i = 0; i < 2; i++) {
        for (dir = dirs[i]; dir != NULL && *dir; dir = *end ? end + 1 : end) {
            end = dir + strcspn(dir, ":");
            if (end == dir)
                continue;
            n = (int)(end - dir);
            if ((size_t)n + strlen(prog) + 2 > len)
                continue;
            memcpy(path, dir, (size_t)n);
            path[n] = '/';
            memcpy(path + n + 1, prog, strlen(prog) + 1);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)
                && access(path, X_OK) == 0)
                return 0;
        }
    }
    return -1;
}

/* pc_child - in the child: stdout to the pipe, the rest to /dev/null */
static void pc_child(const char *path, const char *const *argv, int wfd)
{
    static char env_path[] = "PATH=" PC_PATH, env_lc[] = "LC_ALL=C";
    char   *const env[] = {env_path, env_lc, NULL};
    int     null = open("/dev/null", O_RDWR);
    long    fd, maxfd = sysconf(_SC_OPEN_MAX);

    (void)setsid();
    if (null < 0 || dup2(null, 0) < 0 || dup2(wfd, 1) < 0 || dup2(null, 2) < 0)
        _exit(127);
    for (fd = 3; fd < (maxfd > 0 && maxfd < 65536 ? maxfd : 65536); fd++)
        (void)close((int)fd);
    execve(path, CK_UNCONST(argv), env);
    _exit(127);
}

/* pc_collect - read the child's output until EOF, the cap or the time */
static int pc_collect(int rfd, VBUF *out, int timeout, VBUF *err)
{
    struct timespec now, end;
    struct pollfd pfd = {.fd = rfd, .events = POLLIN};
    char    buf[8192];
    ssize_t n;
    long    ms;

    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += timeout;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
        if (ms <= 0) {
            vbuf_sprintf(err, "no result within %ds", timeout);
            return -1;
        }
        if ((n = poll(&pfd, 1, (int)ms)) < 0 && errno == EINTR)
            continue;
        if (n == 0)
            continue;
        if ((n = read(rfd, buf, sizeof(buf))) < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (vbuf_append(out, buf, (size_t)n) < 0) {
            vbuf_sprintf(err, "output longer than %zu bytes", out->cap);
            return -1;
        }
    }
}

/* postconf_run - run argv (no shell), its output in out; its exit
   status, or -1 with why in err (not found, time-out, too much output) */
int     postconf_run(const char *const *argv, VBUF *out, int timeout, VBUF *err)
{
    char    path[4096], why[300];
    int     fds[2], status = 0, rc;
    pid_t   pid;

    vbuf_reset(out);
    if (pc_find(argv[0], path, sizeof(path)) < 0) {
        vbuf_sprintf(err, "cannot find %s", argv[0]);
        return -1;
    }
    if (pipe2(fds, O_CLOEXEC) < 0)
        pid = -1;
    else if ((pid = fork()) < 0)
        close(fds[0]), close(fds[1]);
    if (pid < 0) {
        vbuf_sprintf(err, "cannot run %s: %s", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0)
        pc_child(path, argv, fds[1]);
    close(fds[1]);
    if ((rc = pc_collect(fds[0], out, timeout, err)) < 0)
        kill(-pid, SIGKILL);
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
         /* again */ ;
    if (rc < 0) {
        snprintf(why, sizeof(why), "%s: %s", argv[0], vbuf_str(err));
        vbuf_strcpy(err, why);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* postconf_snap_path - NAME in the snapshot directory */
const char *postconf_snap_path(CK *ck, const char *name)
{
    return ck_fmt(ck, "%s/%s", ck->opts->snapshot, name);
}

/* pc_read_file - a whole file into out; -1 with why in err */
static int pc_read_file(const char *path, VBUF *out, VBUF *err)
{
    FILE   *fp;
    char    buf[8192];
    size_t  n;

    vbuf_reset(out);
    if ((fp = fopen(path, "r")) == NULL) {
        vbuf_sprintf(err, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        if (vbuf_append(out, buf, n) < 0)
            break;
    if (ferror(fp) || vbuf_overflowed(out)) {
        vbuf_sprintf(err, "cannot read %s: %s", path,
                     ferror(fp) ? strerror(errno) : "too long");
        fclose(fp);
        return -1;
    }
    fclose(fp);
    return 0;
}

/* pc_get - the output of "postconf FLAG" (or its snapshot file) */
static int pc_get(CK *ck, const char *flag, VBUF *out, VBUF *err)
{
    const char *argv[] = {"postconf", "-c", ck->config_dir, flag, NULL};
    int     rc;

    if (ck->opts->snapshot)
        return pc_read_file(postconf_snap_path(ck, ck_fmt(ck, "postconf%s", flag[1] == 'P'
                                                            ? "-P" : flag)), out, err);
    if ((rc = postconf_run(argv, out, PC_TIMEOUT, err)) != 0) {
        if (rc > 0)
            vbuf_sprintf(err, "postconf -c %s %s failed", ck->config_dir, flag);
        return -1;
    }
    return 0;
}

/* pc_lines - call fn for each non-empty line of text */
static void pc_lines(CK *ck, char *text, void (*fn)(CK *, char *, CK_MAP *), CK_MAP *map)
{
    char   *line, *next;

    for (line = text; line && *line; line = next) {
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = 0;
        if (*line && *line != '#')
            fn(ck, line, map);
    }
}

/* pc_param_line - "name = value" (or "name =") into map */
static void pc_param_line(CK *ck, char *line, CK_MAP *map)
{
    char   *eq = strstr(line, " =");
    char   *value;

    if (eq == NULL)
        return;
    value = eq + 2;
    if (*value == ' ')
        value++;
    ck_map_set(ck, map, ck_strn(ck, line, (size_t)(eq - line)), ck_str(ck, value));
}

/* pc_service_line - one line of postconf -M */
static void pc_service_line(CK *ck, char *line, CK_MAP *unused)
{
    CK_LIST f = {0};
    CK_SERVICE *s;
    const char *cp = line;
    int     i;

    (void)unused;
    for (i = 0; i < 7; i++) {                   /* the seven fields */
        size_t  len;

        cp += strspn(cp, " \t");
        len = strcspn(cp, " \t");
        ck_list_add(ck, &f, ck_strn(ck, cp, len));
        cp += len;
    }
    cp += strspn(cp, " \t");
    if (*cp == 0)
        return;
    s = ck_alloc(ck, sizeof(*s));
    s->svc = f.v[0];
    s->type = f.v[1];
    s->maxproc = f.v[6];
    s->chroot = f.v[4];
    s->name = ck_fmt(ck, "%s/%s", s->svc, s->type);
    s->command = ck_str(ck, cp);
    ck_words(ck, &s->words, cp);
    ck_list_add(ck, &ck->services, s);
}

/* pc_expand - $name and ${name} of value, against main (one level deep
   per name, as far as a snapshot needs) */
static const char *pc_expand(CK *ck, const char *value, int depth)
{
    VBUF   *vb;
    const char *cp, *name, *s;
    size_t  len;

    if (strchr(value, '$') == NULL || depth > 10)
        return value;
    vb = vbuf_alloc(VBUF_DEFAULT_CAP);
    for (cp = value; *cp; cp += len) {
        if (*cp != '$' || (cp[1] != '{' && cp[1] != '_' && !isalpha((unsigned char)cp[1]))) {
            vbuf_addch(vb, *cp);
            len = 1;
            continue;
        }
        name = cp + 1 + (cp[1] == '{');
        len = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        s = ck_map_get(&ck->main, ck_strn(ck, name, len));
        vbuf_strcat(vb, s ? pc_expand(ck, s, depth + 1) : "");
        len += (size_t)(name - cp) + (cp[1] == '{' && name[len] == '}');
    }
    s = ck_strn(ck, vbuf_str(vb), vbuf_len(vb));
    vbuf_free(vb);
    return s;
}

/* pc_snapshot_main - a snapshot without postconf-x: defaults, then -n */
static void pc_snapshot_main(CK *ck)
{
    size_t  i;

    for (i = 0; i < sizeof(pc_defaults) / sizeof(pc_defaults[0]); i++)
        ck_map_set(ck, &ck->main, pc_defaults[i][0], pc_defaults[i][1]);
    for (i = 0; i < ck->mset.names.n; i++)
        ck_map_set(ck, &ck->main, ck->mset.names.v[i], ck->mset.values.v[i]);
    for (i = 0; i < ck->main.names.n; i++)
        ck->main.values.v[i] = CK_UNCONST(pc_expand(ck, ck->main.values.v[i], 0));
    for (i = 0; i < ck->params.names.n; i++)
        ck->params.values.v[i] = CK_UNCONST(pc_expand(ck, ck->params.values.v[i], 0));
}

/* pc_config_dir - the instance: -c, else postconf's config_directory */
static int pc_config_dir(CK *ck, VBUF *out, VBUF *err)
{
    const char *argv[] = {"postconf", "-h", "config_directory", NULL};
    struct stat st;

    if (ck->opts->snapshot) {
        ck->config_dir = ck->opts->snapshot;
        if (stat(ck->config_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
            vbuf_sprintf(err, "%s is not a snapshot directory", ck->config_dir);
            return -1;
        }
        return 0;
    }
    if (ck->opts->config_dir) {
        ck->config_dir = ck->opts->config_dir;
    } else {
        if (postconf_run(argv, out, PC_TIMEOUT, err) != 0 || vbuf_len(out) == 0) {
            vbuf_strcpy(err, "cannot run postconf: is Postfix installed?");
            return -1;
        }
        ck->config_dir = ck_strn(ck, vbuf_str(out), strcspn(vbuf_str(out), "\n"));
    }
    if (stat(ck_fmt(ck, "%s/main.cf", ck->config_dir), &st) < 0
        || stat(ck_fmt(ck, "%s/master.cf", ck->config_dir), &st) < 0) {
        vbuf_sprintf(err, "%s is not a Postfix configuration directory "
                     "(no main.cf or master.cf)", ck->config_dir);
        return -1;
    }
    return 0;
}

/* postconf_read - the instance (or the snapshot) into ck; -1 with why */
int     postconf_read(CK *ck, VBUF *err)
{
    VBUF   *out = vbuf_alloc(PC_OUT_MAX);
    struct stat st;
    int     ret = -1, have_x;

    if (pc_config_dir(ck, out, err) < 0)
        goto done;
    if (ck->opts->conf && access(ck->opts->conf, R_OK) < 0) {
        vbuf_sprintf(err, "cannot read %s", ck->opts->conf);
        goto done;
    }
    have_x = !ck->opts->snapshot || stat(postconf_snap_path(ck, "postconf-x"), &st) == 0;
    if (have_x) {
        if (pc_get(ck, "-x", out, err) < 0)
            goto done;
        pc_lines(ck, out->data, pc_param_line, &ck->main);
    }
    if (pc_get(ck, "-n", out, err) < 0)
        goto done;
    pc_lines(ck, out->data, pc_param_line, &ck->mset);
    if (pc_get(ck, "-M", out, err) < 0)
        goto done;
    pc_lines(ck, out->data, pc_service_line, NULL);
    if (pc_get(ck, "-Px", out, err) < 0)
        goto done;
    pc_lines(ck, out->data, pc_param_line, &ck->params);
    if (!have_x)
        pc_snapshot_main(ck);
    if (ck->services.n == 0) {
        vbuf_sprintf(err, "master.cf of %s has no services", ck->config_dir);
        goto done;
    }
    ret = 0;
done:
    vbuf_free(out);
    return ret;
}

/* postconf_postmap_s - "postmap -s TABLE" of the instance; -1 when it
   cannot be listed (always, for a snapshot) */
int     postconf_postmap_s(CK *ck, const char *table, VBUF *out)
{
    const char *argv[] = {"postmap", "-c", ck->config_dir, "-s", table, NULL};
    VBUF   *err;
    int     rc;

    if (ck->opts->snapshot)
        return -1;
    err = vbuf_alloc(4096);
    rc = postconf_run(argv, out, PC_TIMEOUT, err);
    vbuf_free(err);
    return rc == 0 ? 0 : -1;
}

/* postconf_executable - prog is an executable file (a name: in PATH);
   with a snapshot, it is listed in its "programs" file; -1 when a
   snapshot cannot tell */
int     postconf_executable(CK *ck, const char *prog)
{
    VBUF   *text, *err;
    CK_LIST list = {0};
    int     ret;

    char    path[4096];

    if (!ck->opts->snapshot)
        return pc_find(prog, path, sizeof(path)) == 0;
    text = vbuf_alloc(PC_OUT_MAX);
    err = vbuf_alloc(4096);
    if (pc_read_file(postconf_snap_path(ck, "programs"), text, err) < 0) {
        ret = -1;
    } else {
        ck_words(ck, &list, vbuf_str(text));
        ret = ck_list_has(&list, prog);
    }
    vbuf_free(text);
    vbuf_free(err);
    return ret;
}
