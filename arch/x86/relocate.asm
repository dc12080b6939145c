; paging_copy_and_switch(dst, src, len, cr3): copy the image and load the new CR3 with no memory write
; in between, so the stack and every variable continue unchanged in the copy (see arch/x86/paging.h).

section .text
global paging_copy_and_switch
paging_copy_and_switch:
	mov r8, rcx
	mov rcx, rdx
	shr rcx, 3                       ; the image is page aligned: copy 8 bytes per iteration
	rep movsq
	mov cr3, r8
	ret
