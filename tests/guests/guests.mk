# Test guests for hapvisor, included by the top-level Makefile right after its `all:` rule.
#
#   build/guests/testkernel-mb1.elf   test kernel with a Multiboot1 header (QEMU -kernel, GRUB `multiboot`)
#   build/guests/testkernel-mb2.elf   the same kernel with a Multiboot2 header (hapvisor's guest loader, GRUB)
#   build/guests/spin-mb1.bin         a flat Multiboot1 guest that prints one line and spins forever (the
#                                     hang case of tests/lanes/smoke-testkernel.sh)
#
# Both are ELF32 images loading at 1 MiB: the 64-bit code is linked as ELF64 (the .elf64 files keep the
# symbols, for gdb) and converted with objcopy, since QEMU's Multiboot loader takes ELF32 only.
# `make CC=clang` builds them with clang. What the kernel checks: tests/guests/README.md.

TK_SRC := tests/guests/testkernel
TK_OUT := $(B)/guests
TK_CFLAGS := -std=c11 -m64 -ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-omit-frame-pointer -O2 -g -I. \
	-Wall -Wextra -Werror -Wconversion -Wsign-conversion -Wmissing-prototypes -Wstrict-prototypes \
	-Wshadow
TK_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T $(TK_SRC)/linker.ld \
	--no-warn-rwx-segments

TK_C_SRCS := $(sort $(wildcard $(TK_SRC)/*.c))
TK_ASM_SRCS := $(filter-out $(TK_SRC)/header.asm,$(sort $(wildcard $(TK_SRC)/*.asm)))
TK_C_OBJS := $(TK_C_SRCS:$(TK_SRC)/%.c=$(TK_OUT)/obj/%.o)
TK_ASM_OBJS := $(TK_ASM_SRCS:$(TK_SRC)/%.asm=$(TK_OUT)/obj/%.o)
TK_OBJS := $(TK_C_OBJS) $(TK_ASM_OBJS)
TK_HEADERS := $(TK_OUT)/obj/header-mb1.o $(TK_OUT)/obj/header-mb2.o
TK_ELF64 := $(TK_OUT)/testkernel-mb1.elf64 $(TK_OUT)/testkernel-mb2.elf64
TK_IMAGES := $(TK_OUT)/testkernel-mb1.elf $(TK_OUT)/testkernel-mb2.elf

GUEST_IMAGES += $(TK_IMAGES) $(TK_OUT)/spin-mb1.bin

# The Makefile reads its `all:` line before this file, when GUEST_IMAGES is still empty: add them here.
all: $(GUEST_IMAGES)

.PHONY: guests
guests: $(GUEST_IMAGES)

$(TK_C_OBJS): $(TK_OUT)/obj/%.o: $(TK_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TK_CFLAGS) -MMD -MP -c $< -o $@

$(TK_ASM_OBJS): $(TK_OUT)/obj/%.o: $(TK_SRC)/%.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g -F dwarf $< -o $@

# The header, once per protocol (TK_MULTIBOOT=1 or 2).
$(TK_HEADERS): $(TK_OUT)/obj/header-mb%.o: $(TK_SRC)/header.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -DTK_MULTIBOOT=$* $< -o $@

$(TK_ELF64): $(TK_OUT)/testkernel-mb%.elf64: $(TK_OUT)/obj/header-mb%.o $(TK_OBJS) $(TK_SRC)/linker.ld
	$(LD) $(TK_LDFLAGS) -o $@ $< $(TK_OBJS)

$(TK_IMAGES): $(TK_OUT)/testkernel-mb%.elf: $(TK_OUT)/testkernel-mb%.elf64 tests/guests/check-testkernel.sh
	objcopy -O elf32-i386 --strip-debug $< $@
	tests/guests/check-testkernel.sh $@ $*

$(TK_OUT)/spin-mb1.bin: tests/guests/spin.asm
	@mkdir -p $(dir $@)
	$(NASM) -f bin $< -o $@

-include $(TK_C_OBJS:.o=.d)
