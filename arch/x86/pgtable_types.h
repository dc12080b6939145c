/*
 * x86 paging-structure entries, in every paging mode (SDM Vol. 3A chapter 4): the entry bits, and the
 * constants of PAE paging's page-directory-pointer table. Defined once here for hapvisor's own page tables
 * (arch/x86/paging.c), the guest page walker (vmx/gwalk.c), the CR exits and the VM-entry checker. EPT
 * entries are another format (vmx/ept.h); level numbers are the page-table walker's (mm/pagetable.h).
 */
#ifndef HV_ARCH_X86_PGTABLE_TYPES_H
#define HV_ARCH_X86_PGTABLE_TYPES_H

#include "lib/types.h"

/* Entry bits, all modes (SDM Vol. 3A Tables 4-4 to 4-11, 4-14 to 4-20). */
#define PTE_P BIT(0)   /* present */
#define PTE_RW BIT(1)  /* writes allowed */
#define PTE_US BIT(2)  /* user-mode accesses allowed */
#define PTE_PWT BIT(3) /* with PCD and PAT: the IA32_PAT entry index (SDM Vol. 3A 13.12.3) */
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)	      /* accessed */
#define PTE_D BIT(6)	      /* dirty (leaf entries only) */
#define PTE_PS BIT(7)	      /* page size: a large-page leaf in a PDE / PDPTE; PAT in a 4 KiB PTE */
#define PTE_G BIT(8)	      /* global (leaf entries only) */
#define PTE_PAT_LARGE BIT(12) /* PAT in a large-page leaf */
#define PTE_XD BIT(63)	      /* execute-disable (PAE, 4-/5-level paging, with EFER.NXE = 1) */

/* PAE paging: CR3 bits 31:5 locate a 4-entry page-directory-pointer table (SDM Vol. 3A 4.4.1). */
#define PAE_CR3_MASK 0xFFFFFFE0ull
#define PAE_PDPTES 4
#define PAE_PDPTE_RSVD_LOW (BIT(1) | BIT(2) | BIT(5) | BIT(6) | BIT(7) | BIT(8)) /* bits 2:1 and 8:5 */

#endif
