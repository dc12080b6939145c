/*
 * Deferred event lines: a path with a time constraint records an event in a few instructions and the line is
 * printed later, from a point where waiting for the console costs nothing (docs/architecture.md, "SMP").
 *
 * Printing one line takes about 8 ms at 115200 baud (the UART's wait, plus the console lock, which another
 * CPU may hold for as long). That is too long between an INIT exit and the VM entry that puts the vCPU in
 * wait-for-SIPI: the guest's start-up IPIs follow the INIT within microseconds, and a SIPI that finds the
 * processor outside wait-for-SIPI is lost (SDM Vol. 3A 9.4.4.1, Vol. 3C 26.2). So the INIT and SIPI exit
 * handlers only record what happened here, and the lines come out, unchanged in form, at the vCPU's next
 * ordinary exit or at the end of the run.
 *
 * One ring per vCPU. Its owner CPU is the only writer (interrupts are off in hapvisor, so nothing else runs
 * on it meanwhile); printing may happen on another CPU at the end of the run, so head and tail are handed
 * over with acquire/release ordering and one printer at a time holds `printing`. Nothing here blocks, and
 * nothing allocates. Pure C11 atomics: it builds for the host unit tests as well.
 */
#ifndef HV_LIB_DEFERRED_LOG_H
#define HV_LIB_DEFERRED_LOG_H

#include "lib/types.h"

#define DEFERRED_LOG_SLOTS 32u /* a power of two: slot = index % DEFERRED_LOG_SLOTS */
#define DEFERRED_EVENT_ARGS 4u

/* One recorded event: print() writes its line (with log_event) from the values saved in arg[]. */
struct deferred_event {
	void (*print)(const uint64_t arg[DEFERRED_EVENT_ARGS]);
	uint64_t arg[DEFERRED_EVENT_ARGS];
};

struct deferred_log {
	uint32_t head;	    /* the next slot the owner fills; only the owner writes it */
	uint32_t tail;	    /* the next slot to print; only the holder of `printing` writes it */
	uint32_t lost;	    /* events not recorded because the ring was full; only the owner writes it */
	uint32_t lost_told; /* how many of those were reported; only the holder of `printing` writes it */
	uint32_t printing;  /* 1 while a CPU prints this ring */
	bool pending;	    /* set by the owner after each record, cleared by a printer before it drains */
	struct deferred_event slot[DEFERRED_LOG_SLOTS];
};

/*
 * Record an event for later. Called only on the ring's owner CPU. Costs a few loads and stores, never
 * waits; when the ring is full the event is counted in `lost` instead (reported when the ring is printed).
 */
void deferred_log_put(struct deferred_log *l, void (*print)(const uint64_t arg[DEFERRED_EVENT_ARGS]),
		      uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);

/*
 * True when events may wait to be printed (a lost event implies a full ring, so this covers those too). One
 * byte compare: it is on every exit. It can say true when another CPU has just printed everything (print
 * then finds the ring empty); it never says false while a recorded event waits, because a printer clears
 * the flag before it drains and the owner sets it after each record.
 */
static inline bool deferred_log_pending(const struct deferred_log *l)
{
	return __atomic_load_n(&l->pending, __ATOMIC_RELAXED);
}

/*
 * Print every recorded event, oldest first, then "event=deferred_lost count=N" if events were lost since the
 * last report. Any CPU may call it; if another CPU is printing this ring it returns at once (that one prints
 * what is there). May wait for the console: never call it on a path with a time constraint.
 */
void deferred_log_print(struct deferred_log *l);

#endif
