/*
 * testkernel: hostile-guest attacks on hapvisor's exit handling and its control of the CPU rather than on
 * its memory (attack.c dispatches `attack=NAME` here). tests/guests/README.md lists what hapvisor must do.
 */
#ifndef TK_ATTACK_CPU_H
#define TK_ATTACK_CPU_H

#include "main.h"

/*
 * attack_storm: STORM_CPUIDS CPUID and STORM_IOS port-0x64 reads, each one a VM exit; every CPUID answer
 * must equal the first of its leaf, every IN must change AL only, and hapvisor's HC_EXIT_STATS counts
 * must have grown by exactly the numbers made. Prints "testkernel: attack=storm result=pass|fail ..." and
 * powers off with status 0 on a pass, 1 on a failure.
 */
__attribute__((noreturn)) void attack_storm(struct tk_context *t);

/* attack_spin: interrupts off, a jump to itself forever: only a time limit in hapvisor ends it. */
__attribute__((noreturn)) void attack_spin(struct tk_context *t);

/*
 * attack_triplefault: an empty IDT, then UD2: the #UD cannot be delivered (#GP), nor can the #GP (#DF),
 * nor the #DF: a triple fault (SDM Vol. 3A 6.15, interrupt 8), which hapvisor must catch as a VM exit.
 */
__attribute__((noreturn)) void attack_triplefault(struct tk_context *t);

#endif
