/*
 * params - the table of every postsift.conf setting (see params.h)
 *
 * One line per setting: name, type, default as written in a file, where the
 * converted value lives, bounds, and the help line used by -n -v and by
 * postsift.conf(5). Keep the table sorted by name.
 */
#include <stddef.h>

#include "lib/config.h"
#include "lib/params.h"

long  var_archive_max_bytes;
long  var_archive_max_depth;
long  var_archive_max_members;
char *var_banned_extensions;
char *var_banned_names;
char *var_banned_types;
int   var_banned_double_extensions;
char *var_banned_action;
long  var_clamav_max_files;
long  var_clamav_max_filesize;
long  var_clamav_max_recursion;
long  var_clamav_max_scansize;
char *var_clamav_temp_dir;
long  var_clamav_max_scantime;
char *var_clamav_database_directory;
long  var_clamd_timeout;
char *var_command_arguments;
long  var_command_timeout;
char *var_daemon_user;
char *var_error_action;
char *var_log_file;
long  var_max_trace_headers;
long  var_memory_spool_limit;
long  var_message_size_limit;
char *var_milter_listen;
char *var_milter_pid_file;
long  var_milter_workers;
long  var_milter_max_sessions;
long  var_milter_timeout;
long  var_mime_max_depth;
long  var_mime_max_headers;
long  var_mime_max_parts;
char *var_myhostname;
char *var_oversize_action;
long  var_pipe_deadline;
/* postsift-policy: keep this block together */
long  var_policy_command_cache_ttl;
long  var_policy_command_timeout;
long  var_policy_idle_timeout;
char *var_policy_listen;
long  var_policy_max_sessions;
char *var_policy_pid_file;
char *var_policy_rate_db;
char *var_policy_recipient_delimiter;
char *var_policy_rules;
char *var_policy_secret_file;
long  var_policy_signature_grace;
long  var_policy_signature_length;
char *var_policy_store_fail_action;
long  var_policy_store_timeout;
long  var_policy_timeout;
long  var_policy_workers;
/* end of postsift-policy */
char *var_quarantine_dir;
char *var_quarantine_method;
char *var_reinject_target;
long  var_reinject_timeout;
char *var_rejected_action;
char *var_scanner;
char *var_sendmail_config_directory;
char *var_sendmail_path;
char *var_smtp_helo_name;
char *var_smtpd_authorized_xforward_hosts;
long  var_smtpd_junk_command_limit;
char *var_smtpd_listen;
long  var_smtpd_timeout;
long  var_smtpd_data_deadline;
long  var_smtpd_data_done_timeout;
long  var_smtpd_workers;
long  var_smtpd_max_sessions;
long  var_smtpd_session_deadline;
char *var_smtpd_pid_file;
long  var_signature_check_interval;
long  var_signature_max_age;
char *var_spool_dir;
char *var_metrics_file;
char *var_metrics_listen;
char *var_syslog_name;
char *var_unchecked_action;
char *var_virus_action;

#define BANNED_EXT_DEFAULT \
    "ade, adp, app, bas, bat, cab, chm, cmd, com, cpl, dll, dmg, exe, hta, img, inf, " \
    "ins, iso, isp, jar, js, jse, lnk, msc, msi, msp, mst, pif, ps1, psm1, reg, scf, " \
    "scr, sct, shb, sys, vb, vbe, vbs, vhd, vhdx, ws, wsc, wsf, wsh"

/* libmagic's names (file 5.44's, and older ones where they differ);
 * scan/banned.c bans the native executables of the first three lines
 * whatever the list says, as long as it is not empty. */
#define BANNED_TYPES_DEFAULT \
    "application/vnd.microsoft.portable-executable, application/x-dosexec, " \
    "application/x-msdownload, application/x-*executable*, application/x-sharedlib, " \
    "application/x-mach-binary, " \
    "application/x-msi, application/vnd.ms-msi, application/x-ms-shortcut, " \
    "application/vnd.ms-cab-compressed, application/vnd.ms-htmlhelp, " \
    "application/java-archive, " \
    "application/x-iso9660-image, application/x-virtualbox-vhd*, " \
    "application/x-apple-diskimage, application/x-ima, " \
    "text/x-shellscript, text/x-msdos-batch, text/x-ms-regedit, text/x-ms-scf"

#define MB (1024L * 1024L)

/* postsift-policy's files, below the configuration directory */
#define POLICY_RULES_DEFAULT POSTSIFT_SYSCONFDIR "/postsift/policy.rules"
#define POLICY_SECRET_DEFAULT POSTSIFT_SYSCONFDIR "/postsift/policy.key"

const CFG_PARAM config_params[] = {
    {"archive_max_bytes", CFG_SIZE, "100m", &var_archive_max_bytes, 1, 0,
     "most bytes decompressed to list the members of one archive, nested ones included"},
    {"archive_max_depth", CFG_INT, "4", &var_archive_max_depth, 1, 100,
     "deepest archive nesting whose members are listed (1: not inside nested archives)"},
    {"archive_max_members", CFG_INT, "1000", &var_archive_max_members, 1, 0,
     "most archive members listed for one part; more make the message unchecked"},
    {"banned_action", CFG_STR, "reject", &var_banned_action, 0, 0,
     "action for a banned file name or type: pass, tag, reject, discard, quarantine, defer"},
    {"banned_double_extensions", CFG_BOOL, "yes", &var_banned_double_extensions, 0, 0,
     "ban names that hide a banned extension behind another one, such as invoice.pdf.exe"},
    {"banned_extensions", CFG_STR, BANNED_EXT_DEFAULT, &var_banned_extensions, 0, 0,
     "file name extensions that are banned, without the dot, case-insensitive"},
    {"banned_names", CFG_STR, "", &var_banned_names, 0, 0,
     "shell-style patterns of banned file names, case-insensitive"},
    {"banned_types", CFG_STR, BANNED_TYPES_DEFAULT, &var_banned_types, 0, 0,
     "true file types (libmagic MIME types or shell patterns of them) banned whatever the name says"},
    {"clamav_database_directory", CFG_STR, "", &var_clamav_database_directory, 0, 0,
     "signature directory for the in-process scanner; empty: /var/lib/clamav, and without a database there the scanner does not start; bundled: only the test signatures (EICAR, the ClamAV test files)"},
    {"clamav_max_files", CFG_INT, "10000", &var_clamav_max_files, 1, 0,
     "most files libclamav extracts from one container"},
    {"clamav_max_filesize", CFG_SIZE, "100m", &var_clamav_max_filesize, 1, 0,
     "largest file libclamav scans"},
    {"clamav_max_recursion", CFG_INT, "17", &var_clamav_max_recursion, 1, 100,
     "deepest archive nesting libclamav follows"},
    {"clamav_max_scansize", CFG_SIZE, "400m", &var_clamav_max_scansize, 1, 0,
     "most data libclamav scans for one part"},
    {"clamav_max_scantime", CFG_TIME, "120s", &var_clamav_max_scantime, 1, 0,
     "longest libclamav works on one part"},
    {"clamav_temp_dir", CFG_STR, "", &var_clamav_temp_dir, 0, 0,
     "where libclamav makes its per-scan directories; empty: a private directory in /dev/shm when that is a tmpfs, else in spool_dir"},
    {"clamd_timeout", CFG_TIME, "60s", &var_clamd_timeout, 1, 0,
     "time limit for one exchange with a clamd server"},
    {"command_arguments", CFG_STR, "", &var_command_arguments, 0, 0,
     "arguments given to every command scanner, split at white space, never through a shell"},
    {"command_timeout", CFG_TIME, "60s", &var_command_timeout, 1, 0,
     "time limit for one run of a command scanner; past it the command is killed and the message deferred"},
    {"daemon_user", CFG_STR, "postsift", &var_daemon_user, 0, 0,
     "unprivileged user the smtpd daemon runs as after binding"},
    {"error_action", CFG_STR, "defer", &var_error_action, 0, 0,
     "action when scanning failed: defer, or pass, tag, reject, discard, quarantine"},
    {"log_file", CFG_STR, "", &var_log_file, 0, 0,
     "append log lines to this file instead of syslog"},
    {"max_trace_headers", CFG_INT, "3", &var_max_trace_headers, 1, 1000,
     "defer a message that already carries this many of our X-Virus-Scanned headers (a loop)"},
    {"memory_spool_limit", CFG_SIZE, "4m", &var_memory_spool_limit, 0, 268435456,
     "in the smtpd and milter modes, messages up to this size stay in memory (0: always on disk)"},
    {"message_size_limit", CFG_SIZE, "52428800", &var_message_size_limit, 0, 0,
     "larger messages are not scanned and get oversize_action (0: no limit)"},
    {"metrics_file", CFG_STR, "", &var_metrics_file, 0, 0,
     "file of the counters shared by every process (empty: metrics in the directory above spool_dir)"},
    {"metrics_listen", CFG_STR, "", &var_metrics_listen, 0, 0,
     "host:port where the daemons serve the counters over HTTP at /metrics (empty: not served)"},
    {"milter_listen", CFG_STR, "inet:127.0.0.1:10027", &var_milter_listen, 0, 0,
     "listen address(es) of the milter daemon: inet:host:port, inet6:host:port or unix:/path"},
    {"milter_max_sessions", CFG_INT, "100", &var_milter_max_sessions, 1, 0,
     "milter sessions a worker serves before it is replaced"},
    {"milter_pid_file", CFG_STR, "/run/postsift/postsift-milter.pid", &var_milter_pid_file, 0, 0,
     "pid file of the milter daemon"},
    {"milter_timeout", CFG_TIME, "3600s", &var_milter_timeout, 1, 0,
     "time limit for each milter command from Postfix (an SMTP client may idle between commands)"},
    {"milter_workers", CFG_INT, "100", &var_milter_workers, 1, 1000,
     "worker processes of the milter daemon: Postfix holds one milter session per SMTP session"},
    {"mime_max_depth", CFG_INT, "20", &var_mime_max_depth, 1, 1000,
     "deepest MIME nesting fully inspected; deeper parts get the name, type and archive checks only and make the message unchecked"},
    {"mime_max_headers", CFG_INT, "50000", &var_mime_max_headers, 1, 0,
     "most header items (fields, words, parameters, addresses) parsed in one message; more make it unchecked"},
    {"mime_max_parts", CFG_INT, "1000", &var_mime_max_parts, 1, 0,
     "most MIME parts (and inline uuencoded, yEnc or BinHex files) inspected; more make the message unchecked"},
    {"myhostname", CFG_STR, "", &var_myhostname, 0, 0,
     "host name used in headers and EHLO; empty: the system's"},
    {"oversize_action", CFG_STR, "tag", &var_oversize_action, 0, 0,
     "action for a message over message_size_limit"},
    {"pipe_deadline", CFG_TIME, "600s", &var_pipe_deadline, 1, 0,
     "pipe mode gives up with a temporary failure after this; keep it under Postfix's command_time_limit"},
    /* postsift-policy: keep this block together */
    {"policy_command_cache_ttl", CFG_TIME, "60s", &var_policy_command_cache_ttl, 0, 0,
     "seconds a command rule's answer (exit 0 or 1) is kept for the same arguments; 0: no cache"},
    {"policy_command_timeout", CFG_TIME, "5s", &var_policy_command_timeout, 1, 0,
     "time limit of a command rule's program; past it the program is killed and the answer is DEFER_IF_PERMIT"},
    {"policy_idle_timeout", CFG_TIME, "600s", &var_policy_idle_timeout, 1, 0,
     "postsift-policy closes a connection that sends no request for this long"},
    {"policy_listen", CFG_STR, "127.0.0.1:10040", &var_policy_listen, 0, 0,
     "listen address(es) of the policy daemon: host:port, [host]:port, *:port"},
    {"policy_max_sessions", CFG_INT, "100", &var_policy_max_sessions, 1, 0,
     "policy connections a daemon worker serves before it is replaced"},
    {"policy_pid_file", CFG_STR, "/run/postsift/postsift-policy.pid", &var_policy_pid_file, 0, 0,
     "pid file of the policy daemon"},
    {"policy_rate_db", CFG_STR, "/var/spool/postsift/policy/rate.lmdb", &var_policy_rate_db, 0, 0,
     "rate counters: an LMDB file (lmdb:/path or /path) in a private directory"},
    {"policy_recipient_delimiter", CFG_STR, "+", &var_policy_recipient_delimiter, 0, 0,
     "characters that separate a user from the signature in a signed address (the first one is used to mint)"},
    {"policy_rules", CFG_STR, POLICY_RULES_DEFAULT, &var_policy_rules, 0, 0,
     "the rules file of postsift-policy"},
    {"policy_secret_file", CFG_STR, POLICY_SECRET_DEFAULT, &var_policy_secret_file, 0, 0,
     "secret key of signed addresses: mode 0600 or stricter, owned by the user of postsift-policy"},
    {"policy_signature_grace", CFG_TIME, "1d", &var_policy_signature_grace, 0, 0,
     "a signed address is accepted until the end of its day (UTC) plus this long"},
    {"policy_signature_length", CFG_INT, "8", &var_policy_signature_length, 6, 52,
     "base32 characters of the HMAC-SHA256 kept in a signed address"},
    {"policy_store_fail_action", CFG_STR, "DEFER_IF_PERMIT Service temporarily unavailable",
     &var_policy_store_fail_action, 0, 0,
     "answer of a rate rule when the counter store fails"},
    {"policy_store_timeout", CFG_TIME, "1s", &var_policy_store_timeout, 1, 0,
     "time limit to connect to a Redis counter store, and for each command"},
    {"policy_timeout", CFG_TIME, "10s", &var_policy_timeout, 1, 0,
     "time limit for one policy request, from its first line to its empty line, and for the answer"},
    {"policy_workers", CFG_INT, "100", &var_policy_workers, 1, 1000,
     "worker processes of the policy daemon: each holds one connection from a Postfix smtpd"},
    /* end of postsift-policy */
    {"quarantine_dir", CFG_STR, "/var/spool/postsift/quarantine", &var_quarantine_dir, 0, 0,
     "private directory for quarantined messages"},
    {"quarantine_method", CFG_STR, "store", &var_quarantine_method, 0, 0,
     "store: keep quarantined mail in quarantine_dir; hold: the milter puts it in Postfix's hold queue"},
    {"reinject_target", CFG_STR, "[127.0.0.1]:10026", &var_reinject_target, 0, 0,
     "where mail goes back to Postfix: [host]:port, host:port, unix:/path, or sendmail"},
    {"reinject_timeout", CFG_TIME, "300s", &var_reinject_timeout, 1, 0,
     "time limit for connecting and for each command when reinjecting"},
    {"rejected_action", CFG_STR, "reject", &var_rejected_action, 0, 0,
     "action when a command scanner rejects a message (exit status 1)"},
    {"scanner", CFG_STR, "clamav", &var_scanner, 0, 0,
     "the scanners, all of which run: clamav (in-process libclamav) or clamd:unix:/path and clamd:inet:host:port entries (one pool), and command:/path entries"},
    {"sendmail_config_directory", CFG_STR, "", &var_sendmail_config_directory, 0, 0,
     "Postfix configuration directory passed to sendmail -C (multi-instance Postfix)"},
    {"sendmail_path", CFG_STR, "/usr/sbin/sendmail", &var_sendmail_path, 0, 0,
     "the Postfix sendmail command used when reinject_target is sendmail"},
    {"signature_check_interval", CFG_TIME, "60s", &var_signature_check_interval, 1, 0,
     "how often the smtpd daemon checks the signature directory for changes"},
    {"signature_max_age", CFG_TIME, "3d", &var_signature_max_age, 0, 0,
     "warn at every signature load when the newest database is older than this; 0: never"},
    {"smtp_helo_name", CFG_STR, "$myhostname", &var_smtp_helo_name, 0, 0,
     "EHLO name used when reinjecting by SMTP"},
    {"smtpd_authorized_xforward_hosts", CFG_STR, "127.0.0.0/8, [::1]/128",
     &var_smtpd_authorized_xforward_hosts, 0, 0,
     "clients (numeric addresses and networks) that may send XFORWARD; a UNIX-domain client counts as loopback"},
    {"smtpd_data_deadline", CFG_TIME, "3600s", &var_smtpd_data_deadline, 1, 0,
     "time limit for a whole DATA phase from the client"},
    {"smtpd_data_done_timeout", CFG_TIME, "300s", &var_smtpd_data_done_timeout, 1, 0,
     "time limit from the client's final dot to our reply (scan and hand-over)"},
    {"smtpd_junk_command_limit", CFG_INT, "100", &var_smtpd_junk_command_limit, 1, 0,
     "NOOP, RSET, repeated HELO/EHLO and the like a client may send before each counts as an error"},
    {"smtpd_listen", CFG_STR, "127.0.0.1:10025", &var_smtpd_listen, 0, 0,
     "listen address(es) of the smtpd daemon"},
    {"smtpd_max_sessions", CFG_INT, "100", &var_smtpd_max_sessions, 1, 0,
     "sessions a daemon worker serves before it is replaced"},
    {"smtpd_pid_file", CFG_STR, "/run/postsift/postsift-filter.pid", &var_smtpd_pid_file, 0, 0,
     "pid file of the smtpd daemon"},
    {"smtpd_session_deadline", CFG_TIME, "7200s", &var_smtpd_session_deadline, 1, 0,
     "time limit for a whole SMTP session from the client; then 421 and close"},
    {"smtpd_timeout", CFG_TIME, "300s", &var_smtpd_timeout, 1, 0,
     "time limit for each SMTP command and data block from the client"},
    {"smtpd_workers", CFG_INT, "8", &var_smtpd_workers, 1, 1000,
     "worker processes of the smtpd daemon (the most concurrent sessions)"},
    {"spool_dir", CFG_STR, "/var/spool/postsift/spool", &var_spool_dir, 0, 0,
     "private directory for messages being scanned"},
    {"syslog_name", CFG_STR, "postsift", &var_syslog_name, 0, 0,
     "syslog ident prefix: lines are logged as SYSLOG_NAME/PROGRAM"},
    {"unchecked_action", CFG_STR, "tag", &var_unchecked_action, 0, 0,
     "action when part of a message could not be inspected"},
    {"virus_action", CFG_STR, "quarantine", &var_virus_action, 0, 0,
     "action for a message with malware"},
    {NULL, CFG_STR, NULL, NULL, 0, 0, NULL},
};
