/*
 * fuzz_smtpd - the smtpd session engine on arbitrary client bytes
 *
 * The input is everything an SMTP client sends, pipelined: commands, DATA
 * bodies, bare CR and LF, long lines, NULs. smtpd_session() serves it in
 * process against the harness's downstream and clamd (session.c), so the
 * whole path runs: command parsing, XFORWARD and ESMTP parameters, the
 * lock-step relay, the DATA state machine, decide_message() with GMime and
 * libmagic, every action, re-stuffing to the downstream. The checks are
 * session.c's and peer.c's: well-formed replies, no bare CR or LF or
 * unstuffed dot downstream, nothing accepted downstream that the client
 * was not told of.
 */
#include "tests/fuzz/fuzz.h"

/* LLVMFuzzerInitialize - once per process */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_session_setup("smtpd");
    return 0;
}

/* LLVMFuzzerTestOneInput - one session */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_session_run((const char *)data, size);
    return 0;
}
