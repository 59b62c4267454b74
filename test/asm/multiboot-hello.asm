; A Multiboot v1 kernel in the a.out-kludge format (flag bit 16: load addresses in the header): prints over
; COM1, checks the loader's magic in EAX, and exits through isa-debug-exit (port 0xF4) with status 0x21
; (the process exit status is then (0x21 << 1) | 1 = 0x43).
bits 32
org 0x100000
MAGIC    equ 0x1BADB002
FLAGS    equ 0x00010000            ; bit 16: the address fields below are valid
header:
    dd MAGIC
    dd FLAGS
    dd -(MAGIC + FLAGS)
    dd header                      ; header_addr
    dd 0x100000                    ; load_addr
    dd end                         ; load_end_addr
    dd end                         ; bss_end_addr
    dd start                       ; entry_addr
start:
    mov esp, 0x90000
    cmp eax, 0x2BADB002
    jne bad
    mov esi, msg
.next:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx                      ; LSR: wait for THRE
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp .next
.done:
    mov al, 0x21
    out 0xf4, al
    hlt
bad:
    mov al, 0x7f
    out 0xf4, al
    hlt
msg: db "hello from a multiboot kernel", 10, 0
end:
