; A 64 KiB ROM for --bios: the CPU starts at the reset vector (F000:FFF0 with CS.base FFFF0000), which jumps
; to the ROM's low alias at F000:0000; it prints over COM1 and exits through isa-debug-exit with status 0x2a.
bits 16
org 0
start:
    mov ax, 0xf000
    mov ds, ax
    mov si, msg
    mov dx, 0x3f8
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    mov al, 0x2a
    out 0xf4, al
    hlt
msg: db "hello from the reset vector", 10, 0
    times 0xfff0 - ($ - $$) db 0xff
reset:
    jmp 0xf000:start
    times 0x10000 - ($ - $$) db 0xff
