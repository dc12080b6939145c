/*
 * testkernel: its own 4-level page tables (SDM Vol. 3A 4.5), read and edited in C. entry.asm builds them
 * (the first 4 GiB 1:1 with 2 MiB pages, all in .bss); the checks and attacks add mappings far above
 * that, in PML4 slots the identity map leaves empty, with tables taken from a small static pool. The
 * tables lie in identity-mapped memory, so a table's physical address is also its linear address.
 */
#ifndef TK_PAGING_H
#define TK_PAGING_H

#include "cpu.h"

/* Paging-structure entry bits (SDM Vol. 3A 4.5, tables 4-14 to 4-20). */
#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)  /* in a PDPTE or PDE: maps a 1 GiB or 2 MiB page */
#define PTE_XD BIT(63) /* execute-disable, with IA32_EFER.NXE = 1 */
#define PTE_ADDR_MASK UINT64_C(0x000FFFFFFFFFF000)

/* #PF error code bits (SDM Vol. 3A 4.7). */
#define PF_EC_P BIT(0) /* 0: not present; 1: protection */
#define PF_EC_W BIT(1)
#define PF_EC_U BIT(2)
#define PF_EC_RSVD BIT(3)
#define PF_EC_ID BIT(4) /* instruction fetch (with IA32_EFER.NXE or CR4.SMEP) */

#define PG_LEVELS 4	/* PML4, PDPT, PD, PT */
#define PG_LEVEL_PT 1	/* entries map 4 KiB */
#define PG_LEVEL_PD 2	/* entries map 2 MiB (PS) or point to a page table */
#define PG_LEVEL_PDPT 3 /* entries map 1 GiB (PS) or point to a page directory */
#define PG_LEVEL_PML4 4

/* The CPU's walk of one linear address through the current tables, as software sees it. */
struct pg_walk {
	unsigned levels;	       /* entries read (a walk stops at a leaf or a non-present entry) */
	uint64_t ref_addr[PG_LEVELS];  /* physical address of each entry read */
	uint64_t ref_entry[PG_LEVELS]; /* its value */
	bool present;		       /* the address is mapped */
	uint64_t pa;		       /* its physical address, when present */
};

/* pg_walk: walk va through the tables CR3 names. Needs: 4-level paging, va canonical. */
void pg_walk(uint64_t va, struct pg_walk *w);

/*
 * pg_map_4k: map the 4 KiB page at va to the frame pa with entry bits flags (PTE_P, PTE_W ...), creating
 * the tables above it from the pool (each present and writable); flushes va from the TLB. Returns false
 * when a large page is in the way or the pool is used up. Needs: va and pa 4 KiB aligned.
 */
bool pg_map_4k(uint64_t va, uint64_t pa, uint64_t flags);

/*
 * pg_set_pde: make the page-directory entry that covers va (a 2 MiB slot) hold value, creating the
 * PDPT and page directory above it from the pool; flushes va. value may name any frame as the page
 * table: the CPU reads it on the next access to the slot. Returns false as pg_map_4k does.
 */
bool pg_set_pde(uint64_t va, uint64_t value);

/*
 * pg_entry: the entry that decides va at level (PG_LEVEL_*) in the tables under root (a PML4's physical
 * address), creating the tables above it from the pool. NULL when a large page is in the way or the pool
 * is used up. Flushes nothing: the caller changes the entry and flushes.
 */
uint64_t *pg_entry(uint64_t root, uint64_t va, unsigned level);

/* pg_new_root: a new PML4 from the pool holding a copy of the current one (NULL when none is left). */
uint64_t *pg_new_root(void);

#endif
