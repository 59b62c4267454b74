; Task switches and call gates, checked from inside the guest. Records words at RESULTS (see the test).
bits 16
org 0x7c00
RESULTS equ 0x9000
STACK0  equ 0x7000
STACKB  equ 0x6800
STACK3  equ 0x6000

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, STACK0
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
    mov esp, STACK0
    ; task A's TSS (0x28) becomes current; task B's TSS (0x30) starts at task_b with its own stack
    mov ax, 0x28
    ltr ax
    mov dword [tss_b + 0x20], task_b       ; EIP
    mov dword [tss_b + 0x24], 0x2          ; EFLAGS
    mov dword [tss_b + 0x38], STACKB       ; ESP
    mov word  [tss_b + 0x48], 0x10         ; ES
    mov word  [tss_b + 0x4c], 0x08         ; CS
    mov word  [tss_b + 0x50], 0x10         ; SS
    mov word  [tss_b + 0x54], 0x10         ; DS
    mov eax, cr3
    mov [tss_b + 0x1c], eax
    ; interrupt 0x40 goes through a task gate to task B as well (set up below after the first return)
    mov ebx, 0x11111111
    call 0x30:0                            ; 1. CALL to a TSS: nested task switch
    ; back in task A after task B's IRET: record EBX (task B changed its own copy only), NT, TS
    mov [RESULTS + 0], ebx                 ; expected 0x11111111
    pushfd
    pop eax
    mov [RESULTS + 4], eax                 ; EFLAGS of A: NT clear
    mov eax, cr0
    mov [RESULTS + 8], eax                 ; CR0.TS set by the switch
    clts
    ; 2. task B's TSS descriptor is available again (busy cleared by IRET): type 9
    mov eax, [gdt + 0x30 + 4]
    mov [RESULTS + 12], eax
    ; task A's TSS descriptor is busy: type 0xB
    mov eax, [gdt + 0x28 + 4]
    mov [RESULTS + 16], eax
    ; 3. call gate: ring 3 code calls a ring-0 routine through gate 0x40 with 2 dword parameters
    mov dword [tss_a + 4], STACK0 - 0x100  ; ring-0 stack for the privilege change
    mov dword [tss_a + 8], 0x10
    push dword 0x23
    push dword STACK3
    push dword 0x2
    push dword 0x1b
    push dword ring3
    iret
ring3:
    mov ax, 0x23                           ; the IRET to ring 3 nulled DS and ES (DPL 0 < CPL 3)
    mov ds, ax
    mov es, ax
    push dword 0xaaaa
    push dword 0xbbbb
    call 0x43:0                            ; call gate selector 0x40, RPL 3
    ; back in ring 3: EAX holds what the ring-0 routine computed; ESP is back above the parameters
    mov [RESULTS + 20], eax
    mov [RESULTS + 24], esp                ; expected STACK3 - 8 + 8 (RETF 8 pops them)
    mov ax, cs
    mov [RESULTS + 28], eax
    int 0x41                               ; back to ring 0 to finish
ring0_finish:
    cli
    hlt
    jmp ring0_finish

gate_target:
    ; ring 0 through the call gate: frame = [ESP] EIP, CS, param1(0xbbbb), param2(0xaaaa), ESP, SS
    mov eax, [esp + 8]
    add eax, [esp + 12]                    ; 0xbbbb + 0xaaaa = 0x16665
    mov ebx, [esp + 4]
    mov [RESULTS + 32], ebx                ; caller CS = 0x1b
    mov ebx, [esp + 20]
    mov [RESULTS + 36], ebx                ; caller SS = 0x23
    mov ebx, [esp + 16]
    mov [RESULTS + 40], ebx                ; caller ESP after pushing the params = STACK3 - 8
    mov bx, cs
    mov [RESULTS + 44], ebx
    retf 8

task_b:
    ; running as task B: record the back link and NT, change EBX, return with IRET (NT set)
    movzx eax, word [tss_b]
    mov [RESULTS + 48], eax                ; back link = 0x28
    pushfd
    pop eax
    mov [RESULTS + 52], eax                ; NT set
    str ax
    mov [RESULTS + 56], eax                ; TR = 0x30
    mov ebx, 0x22222222
    iret

int41:
    jmp ring0_finish

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff        ; 0x08 code 32, DPL0
    dq 0x00cf92000000ffff        ; 0x10 data 32, DPL0
    dq 0x00cffa000000ffff        ; 0x18 code 32, DPL3
    dq 0x00cff2000000ffff        ; 0x20 data 32, DPL3
    dw 0x67, tss_a, 0x8900, 0    ; 0x28 task A TSS
    dw 0x67, tss_b, 0x8900, 0    ; 0x30 task B TSS
    dq 0                         ; 0x38
    dw gate_target, 0x08, 0xec02, 0   ; 0x40 32-bit call gate, DPL3, 2 parameters
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 0x42*8 - 1
    dd idt
align 16
tss_a: times 0x68 db 0
tss_b: times 0x68 db 0
align 8
idt:
    times 0x41 dq 0
    dw int41, 0x08, 0xee00, 0    ; 0x41: DPL3 interrupt gate to int41
