# hapvisor: a bare-metal type-1 hypervisor for Intel VT-x.
#
#   make          build build/hapvisor.elf and the hybrid BIOS+UEFI ISO build/hapvisor.iso
#   make run      boot the ISO (QEMU + nested KVM where the host has VMX, else Bochs)
#   make test     host unit tests + QEMU TCG (BIOS, UEFI) + Bochs (VMX) boot lanes
#   make unit     host unit tests only
#   make check    static checks: README targets, include layers, clang-format, lane list (tests/checks/)
#   make fuzz     libFuzzer harnesses over the input parsers [FUZZ_SECONDS=60] (docs/security.md)
#   make debug    QEMU with its gdbstub, waiting for gdb (see docs/testing.md)
#   make CC=clang builds with clang instead of gcc.

# Plain `make` builds `all`, whatever rule comes first in this file or the ones it includes.
.DEFAULT_GOAL := all

CC      ?= gcc
ifeq ($(origin CC),default)
CC      := gcc
endif
LD      := ld
NASM    := nasm
HOSTCC  ?= $(CC)
B       := build

# ---- the hypervisor --------------------------------------------------------------------------------
HV_CFLAGS := -std=c11 -ffreestanding -fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
	-mcmodel=kernel -mgeneral-regs-only -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-builtin -O2 -g -I. \
	-Wall -Wextra -Werror -Wconversion -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
	-Wno-unused-parameter
# HV_TEST_HOOKS=1: the test build (build/test/hapvisor.elf, `make hv-test-build`), with the hooks only the lanes
# use (option vmcs_break=, docs/security.md "Test hooks"); plain `make` builds the release image without them.
ifeq ($(HV_TEST_HOOKS),1)
HV_CFLAGS += -DHV_TEST_HOOKS
endif
HV_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T linker.ld --no-warn-rwx-segments

HV_C_SRCS   := $(sort $(wildcard boot/*.c arch/x86/*.c lib/*.c mm/*.c vmx/*.c guest/*.c))
HV_ASM_SRCS := $(sort $(wildcard boot/*.asm arch/x86/*.asm vmx/*.asm))
HV_OBJS     := $(HV_C_SRCS:%.c=$(B)/hv/%.o) $(HV_ASM_SRCS:%.asm=$(B)/hv/%.o) $(B)/hv/font.o

# The screen console's font (arch/x86/font.h, docs/screen.md): a Debian console font (console-setup-linux)
# turned into a C table at build time.
FONT_PSF := /usr/share/consolefonts/Lat15-VGA16.psf.gz
$(B)/gen/font.c: scripts/psf2c.py scripts/psf.py $(FONT_PSF)
	@mkdir -p $(dir $@)
	python3 scripts/psf2c.py $(FONT_PSF) $@
$(FONT_PSF):
	@scripts/deps.sh build

.PHONY: all iso run test unit check lanes bench debug deps clean format
all: $(B)/hapvisor.elf $(B)/hapvisor.iso
include tests/guests/guests.mk

$(B)/hv/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(B)/hv/font.o: $(B)/gen/font.c arch/x86/font.h
	$(CC) $(HV_CFLAGS) -c $< -o $@

$(B)/hv/%.o: %.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g -F dwarf -I. $< -o $@

$(B)/hapvisor.elf: $(HV_OBJS) linker.ld
	$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS)
	@scripts/check-image.sh $@ $(if $(filter 1,$(HV_TEST_HOOKS)),test,release)

# The test build, for the lanes that need its hooks (tests/lanes/bochs-entry-check.sh): never shipped.
.PHONY: hv-test-build
hv-test-build:
	@$(MAKE) --no-print-directory B=$(B)/test HV_TEST_HOOKS=1 $(B)/test/hapvisor.elf

iso: $(B)/hapvisor.iso
# The ISO carries the test kernels as the default guests (boot/grub.cfg) until Linux runs.
ISO_GUESTS := $(B)/guests/testkernel-mb2.elf $(B)/guests/testkernel-mb1.elf
$(B)/hapvisor.iso: $(B)/hapvisor.elf boot/grub.cfg scripts/mkiso.sh $(ISO_GUESTS)
	scripts/mkiso.sh $@ $(B)/hapvisor.elf boot/grub.cfg $(ISO_GUESTS)

# ---- host unit tests (cmocka, ASan + UBSan): tests/unit/unit.mk --------------------------------------
include tests/unit/unit.mk

# ---- static checks -----------------------------------------------------------------------------------
# Each tests/checks/NAME prints "check NAME: PASS" or "check NAME: FAIL: ..." (docs/testing.md). The layer
# check reads the objects' symbols, so hapvisor is built first.
check: $(B)/hapvisor.elf
	@B=$(B) tests/run-checks.sh

# ---- fuzzing (libFuzzer + ASan + UBSan, clang): tests/fuzz/fuzz.mk ---------------------------------
include tests/fuzz/fuzz.mk

# ---- boot lanes ------------------------------------------------------------------------------------
# `make test` is the one test command (CI: .ci/run). Lanes and their logs: docs/testing.md, build/lanes/.
test: deps-test
	$(MAKE) check
	$(MAKE) all
	$(MAKE) CC=clang B=$(B)/clang $(B)/clang/hapvisor.elf
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) linux-assets
	$(MAKE) lanes

lanes: deps-test
	$(MAKE) all hv-test-build
	tests/lanes/run-all.sh

# One lane: make test-LANE, e.g. test-qemu-bios, test-bochs, test-bochs-attack-write (tests/lanes/lanes.list
# lists them) [BOCHS_CPU=model] [LANE_TIMEOUT=s]
test-%: deps-test
	$(MAKE) all hv-test-build
	tests/lanes/run-all.sh $*

# ---- Linux test assets (tests/linux/README.md) -------------------------------------------------------
# Debian's kernels (amd64, and i386 686-pae and 686: each bzImage, and its uncompressed vmlinux) and a
# busybox initramfs for each architecture whose /init checks the guest's view, for the bochs-linux-* lanes
# and malformed-nopvh. The .debs are cached outside build/ (HAPVISOR_CACHE, default ~/.cache/hapvisor), so
# `make clean` does not fetch them again.
LINUX_ASSETS := $(B)/linux/vmlinux $(B)/linux/bzImage $(B)/linux/initramfs.cpio.gz \
	$(B)/linux/vmlinux-686-pae $(B)/linux/bzImage-686-pae $(B)/linux/vmlinux-686 $(B)/linux/bzImage-686 \
	$(B)/linux/initramfs-i386.cpio.gz
.PHONY: linux-assets
linux-assets: $(LINUX_ASSETS)
$(LINUX_ASSETS) &: scripts/linux-assets.sh tests/linux/init tests/linux/initramfs.list tests/linux/bochs-mark.asm \
	tests/linux/hv-cpuid.asm
	scripts/linux-assets.sh $(B)/linux

# Benchmarks (not part of make test): exact instruction counts from Bochs, written to docs/performance.md.
bench: deps-test
	$(MAKE) all linux-assets
	scripts/bench.sh

# make run [GUEST=testkernel|linux|linux-bzimage|PATH] [INITRD=PATH] [CMDLINE="..."]: scripts/run.sh reads
# them from the environment (make exports command-line variables); GUEST=linux* builds the Linux assets.
RUN_ASSETS = $(if $(filter linux linux-bzimage,$(GUEST)),linux-assets)
run: deps-run all $(RUN_ASSETS)
	scripts/run.sh $(B)/hapvisor.iso

debug: deps-run all $(RUN_ASSETS)
	scripts/run.sh --debug $(B)/hapvisor.iso

deps-build deps-test deps-run:
	@scripts/deps.sh $(patsubst deps-%,%,$@)

format:
	scripts/format.sh

clean:
	rm -rf $(B)

-include $(HV_OBJS:.o=.d)
