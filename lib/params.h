/*
 * params - every postsift.conf setting, as a var_* global
 *
 * The table in params.c gives each one its type, default and help line;
 * postsift.conf(5) lists them; docs/DESIGN.md says why the defaults are what they are.
 */
#ifndef POSTSIFT_PARAMS_H
#define POSTSIFT_PARAMS_H

/* where mail goes back */
extern char *var_reinject_target;         /* [127.0.0.1]:10026 | unix:/path | sendmail */
extern char *var_sendmail_path;           /* /usr/sbin/sendmail */
extern char *var_sendmail_config_directory; /* "" or Postfix config dir for -C */
extern long  var_reinject_timeout;        /* connect + per-command timeout, seconds */
extern char *var_smtp_helo_name;          /* EHLO name used when reinjecting */

/* scanning */
extern char *var_scanner;                 /* clamav | clamd:unix:/p,clamd:inet:h:p, command:/p */
extern char *var_clamav_database_directory; /* "" = system, "bundled" = test sigs */
extern long  var_clamd_timeout;           /* seconds per clamd exchange */
extern char *var_command_arguments;       /* argv of command scanners after the path */
extern long  var_command_timeout;         /* seconds per command scanner run */
extern long  var_clamav_max_scansize;
extern char *var_clamav_temp_dir;        /* "": /dev/shm when a tmpfs, else spool_dir */
extern long  var_clamav_max_filesize;
extern long  var_clamav_max_recursion;
extern long  var_clamav_max_files;
extern long  var_clamav_max_scantime;     /* seconds */
extern long  var_mime_max_depth;
extern long  var_mime_max_headers;        /* header fields + parameters + addresses */
extern long  var_mime_max_parts;
extern long  var_archive_max_depth;
extern long  var_archive_max_members;
extern long  var_archive_max_bytes;
extern char *var_banned_extensions;       /* comma/space list, no dots */
extern char *var_banned_types;            /* libmagic MIME types */
extern char *var_banned_names;            /* shell-style patterns, matched case-insensitively */
extern int   var_banned_double_extensions;

/* decisions */
extern char *var_virus_action;
extern char *var_banned_action;
extern char *var_unchecked_action;
extern char *var_error_action;
extern char *var_oversize_action;
extern char *var_rejected_action;         /* a command scanner rejects */
extern long  var_memory_spool_limit;
extern long  var_message_size_limit;
extern char *var_milter_listen;            /* milter daemon sockets */
extern char *var_milter_pid_file;
extern long  var_milter_workers;
extern long  var_milter_max_sessions;
extern long  var_milter_timeout;          /* per milter command */

/* postsift-policy (policy delegation); keep this block together */
extern long  var_policy_command_cache_ttl; /* seconds a command answer is kept */
extern long  var_policy_command_timeout;   /* deadline of a command rule's program */
extern long  var_policy_idle_timeout;     /* wait for the next request, seconds */
extern char *var_policy_listen;           /* daemon sockets */
extern long  var_policy_max_sessions;     /* connections per worker */
extern char *var_policy_pid_file;
extern char *var_policy_rate_db;          /* [lmdb:]/path of the rate counters */
extern char *var_policy_recipient_delimiter; /* "+": user+DATE.SIG */
extern char *var_policy_rules;            /* the rules file */
extern char *var_policy_secret_file;      /* HMAC key of signed addresses */
extern long  var_policy_signature_grace;  /* seconds past the expiry day */
extern long  var_policy_signature_length; /* base32 characters kept */
extern char *var_policy_store_fail_action; /* answer when the store fails */
extern long  var_policy_store_timeout;    /* Redis connect and command, seconds */
extern long  var_policy_timeout;          /* one request, seconds */
extern long  var_policy_workers;          /* daemon worker processes */

/* places */
extern char *var_spool_dir;
extern char *var_metrics_file;            /* shared counters; "": spool_dir/../metrics */
extern char *var_metrics_listen;          /* daemons' HTTP /metrics; "": none */
extern char *var_quarantine_dir;
extern char *var_quarantine_method;        /* store | hold (milter) */

/* pipe mode */
extern long  var_pipe_deadline;

/* smtpd mode */
extern char *var_smtpd_listen;
extern long  var_smtpd_timeout;
extern long  var_max_trace_headers;
extern long  var_smtpd_data_deadline;     /* whole DATA phase, seconds */
extern long  var_smtpd_data_done_timeout; /* final dot to our reply, seconds */
extern long  var_smtpd_workers;           /* daemon worker processes */
extern long  var_smtpd_max_sessions;      /* sessions per worker before it is recycled */
extern char *var_smtpd_pid_file;
extern long  var_smtpd_junk_command_limit; /* NOOP, RSET... before each is an error */
extern long  var_smtpd_session_deadline;  /* whole session, seconds */
extern char *var_smtpd_authorized_xforward_hosts; /* who may send XFORWARD */
extern long  var_signature_check_interval; /* seconds between cl_statchkdir checks */
extern long  var_signature_max_age;       /* seconds; older signatures: a warning */

/* identity and logging */
extern char *var_myhostname;
extern char *var_syslog_name;
extern char *var_log_file;
extern char *var_daemon_user;

#endif
