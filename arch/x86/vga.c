/* The VGA text-mode cursor (see vga.h): two CRT controller registers at the colour I/O base 0x3D4. */
#include "arch/x86/vga.h"
#include "arch/x86/cpu.h"

#define VGA_CRTC_INDEX 0x3D4 /* colour text modes (0xB8000); the monochrome base 0x3B4 is not used */
#define VGA_CRTC_DATA 0x3D5
#define VGA_CRTC_CURSOR_HIGH 0x0E /* Cursor Location High */
#define VGA_CRTC_CURSOR_LOW 0x0F  /* Cursor Location Low */

void vga_cursor_place(unsigned offset)
{
	outb(VGA_CRTC_INDEX, VGA_CRTC_CURSOR_HIGH);
	outb(VGA_CRTC_DATA, (uint8_t)(offset >> 8));
	outb(VGA_CRTC_INDEX, VGA_CRTC_CURSOR_LOW);
	outb(VGA_CRTC_DATA, (uint8_t)offset);
}
