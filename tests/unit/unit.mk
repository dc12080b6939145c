# The host unit tests, included by the top-level Makefile (make unit; docs/testing.md, "Host unit tests").
#
# Each tests/unit/test_NAME.c is one binary: the test, the shared host pieces (UNIT_COMMON: console capture,
# panic trap, formatting and logging) and the hypervisor sources it tests (UNIT_SRCS_test_NAME, below),
# built for the host with ASan + UBSan. Those sources hold no privileged instructions, so they build
# unchanged. A binary is rebuilt when one of its sources or of the headers they include changes (the
# compiler lists them in build/unit/test_NAME.d).

UNIT_COMMON := lib/fmt.c lib/log.c tests/unit/host_stubs.c
UNIT_SRCS_test_fmt     :=
UNIT_SRCS_test_cmdline := lib/cmdline.c boot/options.c
UNIT_SRCS_test_mb2     := guest/mb2.c
UNIT_SRCS_test_memmap  := mm/memmap.c boot/memmap_mb2.c
UNIT_SRCS_test_pagetable := mm/pagetable.c mm/pmm.c
UNIT_SRCS_test_pmm     := mm/pmm.c
UNIT_SRCS_test_acpi    := arch/x86/acpi_tables.c
UNIT_SRCS_test_madt    := arch/x86/madt.c arch/x86/acpi_tables.c
UNIT_SRCS_test_tsc     := arch/x86/tsc.c
UNIT_SRCS_test_guest_acpi := guest/acpi.c arch/x86/acpi_tables.c arch/x86/madt.c
UNIT_SRCS_test_mtrr    := arch/x86/mtrr.c
UNIT_SRCS_test_ept     := vmx/ept.c mm/guest_mem.c mm/pagetable.c mm/pmm.c mm/memmap.c arch/x86/mtrr.c
UNIT_SRCS_test_elf     := guest/elf.c
GUEST_LOADER_SRCS := guest/loader.c guest/multiboot_header.c guest/multiboot_info.c guest/pvh.c guest/bzimage.c \
	guest/elf.c guest/mb2.c guest/acpi.c mm/memmap.c arch/x86/acpi_tables.c arch/x86/madt.c
UNIT_SRCS_test_multiboot := $(GUEST_LOADER_SRCS)
UNIT_SRCS_test_bzimage := $(GUEST_LOADER_SRCS)
UNIT_SRCS_test_pvh     := $(GUEST_LOADER_SRCS)
UNIT_SRCS_test_gwalk   := vmx/gwalk.c
UNIT_SRCS_test_walk2d  := vmx/walk2d.c vmx/gwalk.c
UNIT_SRCS_test_screen  := arch/x86/screen.c $(B)/gen/font.c
UNIT_SRCS_test_entry_check := vmx/entry_check.c
UNIT_SRCS_test_emulate := vmx/emulate.c
UNIT_SRCS_test_shadow  := vmx/shadow.c vmx/shadow_fault.c vmx/gwalk.c mm/guest_mem.c mm/memmap.c mm/pagetable.c mm/pmm.c \
	arch/x86/mtrr.c
UNIT_SRCS_test_deferred_log := lib/deferred_log.c
# Test-only helpers shared by several unit tests (not linked into the fuzz targets).
UNIT_HELPERS_test_multiboot := tests/unit/guest_arena.c
UNIT_HELPERS_test_bzimage := tests/unit/guest_arena.c
UNIT_HELPERS_test_pvh  := tests/unit/guest_arena.c

# The unit tests build with the test hooks (HV_TEST_HOOKS): test_cmdline parses the test-only vmcs_break too.
HOST_CFLAGS := -std=c11 -g -O1 -I. -DHV_HOST_TEST -DHV_TEST_HOOKS -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_TESTS  := $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/test_*.c))

.SECONDEXPANSION:
$(B)/unit/%: tests/unit/%.c $(UNIT_COMMON) $$(UNIT_SRCS_%) $$(UNIT_HELPERS_%)
	@mkdir -p $(dir $@)
	@$(HOSTCC) $(HOST_CFLAGS) -MM -MP -MT $@ $(filter %.c,$^) >$@.d
	$(HOSTCC) $(HOST_CFLAGS) $(filter %.c,$^) -lcmocka -o $@

.PHONY: unit
unit: deps-build $(UNIT_TESTS)
	@tests/run-unit.sh $(UNIT_TESTS)

-include $(UNIT_TESTS:=.d)
