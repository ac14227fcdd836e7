/*
 * postsift-check - "postsift-postfix check": find the Postfix settings
 * around a content filter that loop, bounce or lose mail.
 *
 * Run by "postsift-postfix check" (exec), or directly:
 *     postsift-check [-v] [-c config_dir] [-p postsift.conf] [--snapshot dir]
 *         [--clamd-conf clamd.conf]
 *     postsift-check --man
 * Its man page is the CHECK section of postsift-postfix(8); the list of
 * findings there is "postsift-check --man", made from the rule table in
 * check/rules.c. It changes nothing.
 *
 * Output: one line per finding,
 *     postsift-postfix: ID: what is wrong (where) -- harm; fix: what to do
 * Exit: 0 clean, 1 findings, 2 usage error or unreadable instance.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "lib/msg.h"
#include "lib/progstart.h"

int     main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"snapshot", required_argument, NULL, 'S'},
        {"clamd-conf", required_argument, NULL, 'C'},
        {"man", no_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    CK_OPTS opts;
    char    opt[3] = "-?";
    int     c, man = 0;

    prog_hygiene();
    prog_version(argc, argv, "postsift-check");
    msg_init("postsift-check", MSG_STDERR);
    msg_set_fatal_status(CK_EXIT_USAGE);
    memset(&opts, 0, sizeof(opts));
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":vc:p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'v':
            opts.verbose = 1;
            break;
        case 'c':
            opts.config_dir = optarg;
            break;
        case 'p':
            opts.conf = optarg;
            break;
        case 'S':
            opts.snapshot = optarg;
            break;
        case 'C':
            opts.clamd_conf = optarg;
            break;
        case 'M':
            man = 1;
            break;
        case 'h':
            return check_usage(NULL, NULL, NULL);
        case ':':
            if (optopt == 0)
                return check_usage("option ", argv[optind - 1], " needs a value");
            opt[1] = (char)optopt;
            return check_usage("option ", opt, " needs a value");
        default:
            if (optopt == 0)
                return check_usage("unknown option ", argv[optind - 1], "");
            opt[1] = (char)optopt;
            return check_usage("unknown option ", opt, "");
        }
    }
    if (optind < argc)
        return check_usage("unexpected argument: ", argv[optind], "");
    if (man) {
        ck_man(stdout);
        return fflush(stdout) == 0 ? 0 : CK_EXIT_USAGE;
    }
    return check_run(&opts, stdout, stderr);
}
