; Debug registers checked from inside the guest: an instruction breakpoint (fault, resumed with RF), a data
; write breakpoint and a read/write breakpoint (traps after the access), single-step (DR6.BS) and general
; detect (DR6.BD). The #DB handler records (DR6, EIP of the frame, EFLAGS.RF of the frame) per event.
bits 16
org 0x7c00
RESULTS equ 0x9000
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    lgdt [gdt_desc]
    lidt [idt_desc]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp 0x08:pm32
bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7000
    mov dword [RESULTS], 0
    ; 1. instruction breakpoint on `target`
    mov eax, target
    mov dr0, eax
    mov eax, 0x00000001          ; L0, R/W0 = 00 (execute), LEN0 = 00
    mov dr7, eax
    nop
target:
    inc dword [counter]          ; runs once: the handler resumes with RF set
    xor eax, eax
    mov dr7, eax
    ; 2. data write breakpoint (DR1, 4 bytes) on `var`
    mov eax, var
    mov dr1, eax
    mov eax, 0x00d00004          ; L1, R/W1 = 01 (write), LEN1 = 11 (4 bytes)
    mov dr7, eax
    mov dword [var], 0x1234      ; traps after the store
after_store:
    mov ebx, [var]               ; a read: no trap for a write breakpoint
    ; 3. read/write breakpoint on the same dword, hit by a read
    mov eax, 0x00f00004          ; L1, R/W1 = 11
    mov dr7, eax
    mov ecx, [var + 2]           ; overlaps the watched dword: traps
after_read:
    xor eax, eax
    mov dr7, eax
    ; 4. single step over one instruction
    pushfd
    or dword [esp], 0x100
    popfd                        ; TF takes effect after POPF: the next instruction traps
    nop
after_nop:
    ; (the handler clears TF in the frame)
    ; 5. general detect
    mov eax, 0x00002000          ; GD
    mov dr7, eax
gd_mov:
    mov eax, dr0                 ; faults with BD; the handler skips this 3-byte instruction
    cli
    hlt

db_handler:
    push eax
    push ebx
    mov ebx, [RESULTS]
    imul ebx, ebx, 12
    mov eax, dr6
    mov [RESULTS + 4 + ebx], eax
    mov eax, [esp + 8]           ; EIP in the frame
    mov [RESULTS + 8 + ebx], eax
    mov eax, [esp + 16]          ; EFLAGS in the frame
    and eax, 0x10000             ; RF
    mov [RESULTS + 12 + ebx], eax
    inc dword [RESULTS]
    xor eax, eax
    mov dr6, eax                 ; DR6 is sticky: clear it for the next event
    mov eax, [esp + 8]
    cmp eax, target
    jne .not_ib
    or dword [esp + 16], 0x10000 ; resume the breakpointed instruction with RF set
.not_ib:
    cmp eax, gd_mov
    jne .not_gd
    add dword [esp + 8], 3       ; skip mov eax, dr0
.not_gd:
    and dword [esp + 16], ~0x100 ; clear TF
    pop ebx
    pop eax
    iret

counter: dd 0
var: dd 0
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 2*8 - 1
    dd idt
align 8
idt:
    dq 0
    dw db_handler, 0x08, 0x8e00, 0
