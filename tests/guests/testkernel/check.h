/*
 * testkernel: named checks and their one-line verdicts on COM1:
 *   testkernel: check=<name> result=pass|fail <key=value details>
 * and the summary "testkernel: N passed, N failed" (main.c).
 */
#ifndef TK_CHECK_H
#define TK_CHECK_H

#include "fmt.h"

#define CHECK_DETAILS_MAX 1024

struct check {
	const char *name;
	bool failed;
	size_t len;
	char details[CHECK_DETAILS_MAX]; /* " key=value" items, in the order added */
};

extern unsigned check_passed, check_failed;

/* check_begin: start check c (it becomes check_current() until check_end). */
void check_begin(struct check *c, const char *name);

/* check_note: add a " key=value" detail (fmt gives "key=value"). */
void check_note(struct check *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* check_fail: add a detail that says what went wrong, and mark the check failed. */
void check_fail(struct check *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* check_end: print the verdict line and count it; no check is current afterwards. */
void check_end(struct check *c);

/* The check in progress, or NULL (used to blame an unexpected exception). */
struct check *check_current(void);

#endif
