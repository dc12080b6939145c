; spin: a guest that never ends, for the negative cases of scripts/boot-smoke.sh (tests/lanes/smoke-testkernel.sh).
; A flat Multiboot1 image (the a.out kludge: the header gives the load and entry addresses, Multiboot 0.6.96
; section 3.1.3) loaded at 1 MiB. It writes one line to COM1, then spins with interrupts off: no power-off,
; no hypercall, no VM exit, so only the runner's time limit ends the run.
;
;   nasm -f bin tests/guests/spin.asm -o build/guests/spin-mb1.bin        (make guests)

bits 32

MB1_HEADER_MAGIC    equ 0x1BADB002
MB1_FLAG_ADDRESSES  equ 1 << 16 ; header_addr .. entry_addr are valid (section 3.1.3)
MB1_FLAGS           equ MB1_FLAG_ADDRESSES
LOAD_ADDR           equ 0x100000

COM1                equ 0x3F8
UART_LSR            equ 5       ; line status register (COM1 + 5)
UART_LSR_THRE       equ 1 << 5  ; transmit holding register empty

org LOAD_ADDR

header:
	dd MB1_HEADER_MAGIC
	dd MB1_FLAGS
	dd -(MB1_HEADER_MAGIC + MB1_FLAGS)
	dd header     ; header_addr
	dd LOAD_ADDR  ; load_addr: the file from its start
	dd 0          ; load_end_addr: 0 = the whole file
	dd 0          ; bss_end_addr: no bss
	dd start      ; entry_addr

start:
	cli
	mov esi, message
.next:
	lodsb
	test al, al
	jz .spin
	mov ah, al
	mov dx, COM1 + UART_LSR
.wait:
	in al, dx
	test al, UART_LSR_THRE
	jz .wait
	mov dx, COM1
	mov al, ah
	out dx, al
	jmp .next
.spin:
	pause
	jmp .spin

message:
	db "spin: spinning with interrupts off, forever", 13, 10, 0
