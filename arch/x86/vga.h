/* The VGA text-mode cursor (CRT controller registers, IBM VGA Technical Reference, "CRT Controller"). */
#ifndef HV_ARCH_X86_VGA_H
#define HV_ARCH_X86_VGA_H

/* Put the blinking text cursor on character cell `offset` (row * characters per row + column). */
void vga_cursor_place(unsigned offset);

#endif
