# The libFuzzer harnesses, included by the top-level Makefile after tests/unit/unit.mk (docs/security.md).
# One harness per parser of external input, tests/fuzz/fuzz_NAME.c, linked with the hypervisor sources its
# unit test uses (FUZZ_SRCS_NAME) and built with clang, libFuzzer, ASan and UBSan.
#   make fuzz [FUZZ_SECONDS=60]   each target for FUZZ_SECONDS; crash inputs go to build/fuzz/crashes/
#   make fuzz-smoke               each target for FUZZ_SMOKE_SECONDS (part of make test)
# Skipped with a message when $(FUZZ_CC) has no libFuzzer runtime (Debian: libclang-rt-14-dev). As for the
# unit tests, a harness is rebuilt when a source or a header it includes changes (build/fuzz/fuzz_NAME.d).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TARGETS := mb2 elf bzimage pvh multiboot cmdline acpi madt gwalk emulate
FUZZ_SRCS_mb2       := $(UNIT_SRCS_test_mb2)
FUZZ_SRCS_elf       := $(UNIT_SRCS_test_elf)
FUZZ_SRCS_bzimage   := $(UNIT_SRCS_test_bzimage)
FUZZ_SRCS_pvh       := $(UNIT_SRCS_test_multiboot)
FUZZ_SRCS_multiboot := $(UNIT_SRCS_test_multiboot)
FUZZ_SRCS_cmdline   := $(UNIT_SRCS_test_cmdline)
FUZZ_SRCS_acpi      := $(UNIT_SRCS_test_acpi) guest/acpi.c arch/x86/madt.c
FUZZ_SRCS_madt      := $(UNIT_SRCS_test_madt)
FUZZ_SRCS_gwalk     := $(UNIT_SRCS_test_gwalk)
FUZZ_SRCS_emulate   := $(UNIT_SRCS_test_emulate)
FUZZ_CFLAGS := $(filter-out -fsanitize=%,$(HOST_CFLAGS)) -fsanitize=fuzzer,address,undefined
FUZZ_BINS   := $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(UNIT_COMMON) $$(FUZZ_SRCS_%)
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MM -MP -MT $@ $(filter %.c,$^) >$@.d
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

.PHONY: fuzz fuzz-smoke
fuzz fuzz-smoke: deps-build
	@if tests/fuzz/run.sh check $(FUZZ_CC); then \
		$(MAKE) --no-print-directory $(FUZZ_BINS) && \
		tests/fuzz/run.sh $(if $(filter fuzz,$@),$(FUZZ_SECONDS),$(FUZZ_SMOKE_SECONDS)) $(FUZZ_BINS); \
	else \
		echo "fuzz: skipped: $(FUZZ_CC) cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"; \
		echo "fuzz: 0 passed, 0 failed"; \
	fi

-include $(FUZZ_BINS:=.d)
