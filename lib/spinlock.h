/*
 * A test-and-test-and-set spinlock for hapvisor's few shared structures (the EPT and its reverse map, the
 * frame pool, the console). hapvisor runs with interrupts off on every CPU, so a lock holder is never
 * interrupted by code that takes the same lock; holders never sleep. Lock order, outermost first:
 * ept_lock (vmx/ept.c) -> pmm (mm/pmm.c) -> console (arch/x86/console.c).
 * Pure C11 atomics: it builds for the host unit tests as well.
 */
#ifndef HV_LIB_SPINLOCK_H
#define HV_LIB_SPINLOCK_H

#include "lib/types.h"

struct spinlock {
	uint32_t locked; /* 0: free; a zero-initialised lock is free */
};

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__asm__ volatile("pause" ::: "memory");
	}
}

/* Take the lock unless it is held; true when taken. */
static inline bool spin_trylock(struct spinlock *l)
{
	return !__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0u, __ATOMIC_RELEASE);
}

#endif
