; A Multiboot kernel that resets the machine through the PIIX3 reset control register (0xCF9 = 6, what Linux's
; reboot=pci and the FADT's RESET_REG do) on its first boot, and on the second boot (recognised by a marker
; it left in RAM, which a reset does not clear) exits through isa-debug-exit with status 0x10.
bits 32
org 0x100000
MAGIC    equ 0x1BADB002
FLAGS    equ 0x00010000
MARKER   equ 0x00200000
header:
    dd MAGIC, FLAGS, -(MAGIC + FLAGS)
    dd header, 0x100000, end, end, start
start:
    cmp dword [MARKER], 0x5245424f     ; "OBER"
    je second
    mov dword [MARKER], 0x5245424f
    mov dx, 0xcf9
    mov al, 0x06                       ; SRST | RCPU: hard reset
    out dx, al
    hlt
second:
    mov al, 0x10
    out 0xf4, al
    hlt
end:
