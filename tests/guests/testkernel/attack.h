/*
 * testkernel: hostile-guest mode. With `attack=NAME` on its command line (the Multiboot module string under
 * hapvisor), the kernel runs no checks: it aims one attack at hapvisor's region (found as check memory_map
 * finds it) and expects hapvisor to stop it. tests/guests/README.md lists the attacks and what hapvisor
 * must do about each.
 */
#ifndef TK_ATTACK_H
#define TK_ATTACK_H

#include "main.h"

#define ATTACK_NAME_MAX 32

/*
 * attack_requested: copy the value of the first `attack=` word of cmdline into name (NUL-terminated,
 * cut to size - 1 bytes); false when there is none.
 */
bool attack_requested(const char *cmdline, char *name, size_t size);

/*
 * attack_run: print "testkernel: attack=NAME target=0x... starting" and make the attack. Does not return:
 * an attack that is not stopped prints "testkernel: attack=NAME result=fail the access completed" and
 * the summary, and powers off with status 1; the hypercall attack, contained by an error return, prints
 * "result=pass contained=HC_EFAULT" and powers off with status 0.
 */
__attribute__((noreturn)) void attack_run(const char *name, struct tk_context *t);

#endif
