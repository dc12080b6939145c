/* Deferred event lines (see deferred_log.h): a single-producer ring per vCPU, printed later. */
#include "lib/deferred_log.h"
#include "lib/log.h"

_Static_assert((DEFERRED_LOG_SLOTS & (DEFERRED_LOG_SLOTS - 1)) == 0, "DEFERRED_LOG_SLOTS is a power of two");

void deferred_log_put(struct deferred_log *l, void (*print)(const uint64_t arg[DEFERRED_EVENT_ARGS]),
		      uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	uint32_t head = l->head; /* the owner's own value */
	if (head - __atomic_load_n(&l->tail, __ATOMIC_ACQUIRE) >= DEFERRED_LOG_SLOTS) {
		__atomic_store_n(&l->lost, l->lost + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&l->pending, true, __ATOMIC_SEQ_CST);
		return;
	}
	struct deferred_event *e = &l->slot[head % DEFERRED_LOG_SLOTS];
	e->print = print;
	e->arg[0] = a0;
	e->arg[1] = a1;
	e->arg[2] = a2;
	e->arg[3] = a3;
	/* Sequentially consistent, as the printer's clearing of `pending` and its reads of head: if a printer
	 * clears the flag after this sets it, its next read of head sees this record. */
	__atomic_store_n(&l->head, head + 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&l->pending, true, __ATOMIC_SEQ_CST);
}

void deferred_log_print(struct deferred_log *l)
{
	if (__atomic_exchange_n(&l->printing, 1u, __ATOMIC_ACQUIRE))
		return;
	/* Cleared before the ring is read: a record made after this point sets it again. */
	__atomic_store_n(&l->pending, false, __ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t tail = l->tail;
		if (tail == __atomic_load_n(&l->head, __ATOMIC_SEQ_CST))
			break;
		struct deferred_event e = l->slot[tail % DEFERRED_LOG_SLOTS];
		__atomic_store_n(&l->tail, tail + 1, __ATOMIC_RELEASE); /* the slot is free once copied */
		e.print(e.arg);
	}
	uint32_t lost = __atomic_load_n(&l->lost, __ATOMIC_RELAXED);
	if (lost != l->lost_told) {
		log_event("deferred_lost count=%u", lost - l->lost_told);
		l->lost_told = lost;
	}
	__atomic_store_n(&l->printing, 0u, __ATOMIC_RELEASE);
}
