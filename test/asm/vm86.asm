; Virtual-8086 mode: enter it with IRET, take IOPL-sensitive and I/O-bitmap faults in the ring-0 monitor,
; check the VM86 interrupt frame, and return to VM86 with IRET. Records 6 dwords per #GP at RESULTS.
bits 16
org 0x7c00
RESULTS equ 0x9000
STACK0  equ 0x7000
V86SEG  equ 0x0800               ; VM86 code and data at 0800:0000 = linear 0x8000

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
    mov dword [RESULTS], 0
    ; copy the VM86 program to 0x8000
    mov esi, v86code
    mov edi, 0x8000
    mov ecx, v86end - v86code
    rep movsb
    ; TSS: ring-0 stack, I/O bitmap at 0x68 allowing port 0x80 and denying 0x81
    mov dword [tss + 4], STACK0
    mov dword [tss + 8], 0x10
    mov word [tss + 0x66], 0x68
    mov byte [tss + 0x68 + 0x10], 0x02   ; port 0x81 -> bit 1 of byte 0x10
    mov ax, 0x28
    ltr ax
    ; IRET to VM86: GS FS DS ES SS ESP EFLAGS CS EIP (IOPL 0, VM, IF clear)
    push dword V86SEG            ; GS
    push dword V86SEG            ; FS
    push dword V86SEG            ; DS
    push dword V86SEG            ; ES
    push dword V86SEG            ; SS
    push dword 0xfffe            ; ESP
    push dword 0x00020002        ; EFLAGS: VM
    push dword V86SEG            ; CS
    push dword 0                 ; EIP
    iret

gp_handler:
    ; frame: [esp] error, EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS
    push eax
    push ebx
    push ecx
    xor ecx, ecx
    mov cx, ds                            ; DS on entry: the CPU loaded null (SDM 20.3.1.1)
    mov ax, 0x10
    mov ds, ax
    mov ebx, [RESULTS]
    imul ebx, ebx, 24
    mov eax, [esp + 12]
    mov [RESULTS + 4 + ebx], eax          ; error code
    mov eax, [esp + 16]
    mov [RESULTS + 8 + ebx], eax          ; EIP (IP of the faulting VM86 instruction)
    mov eax, [esp + 20]
    mov [RESULTS + 12 + ebx], eax         ; CS
    mov eax, [esp + 24]
    mov [RESULTS + 16 + ebx], eax         ; EFLAGS (VM set)
    mov eax, [esp + 40]
    mov [RESULTS + 20 + ebx], eax         ; DS pushed by the CPU
    mov [RESULTS + 24 + ebx], ecx         ; DS on entry to the handler
    inc dword [RESULTS]
    cmp dword [RESULTS], 4
    jae finish
    ; skip the faulting instruction: its length is in the byte before it in the VM86 program table
    mov eax, [RESULTS]
    movzx eax, byte [lengths + eax - 1]
    add [esp + 16], eax
    pop ecx
    pop ebx
    pop eax
    add esp, 4
    iret
finish:
    cli
    hlt
    jmp finish

lengths: db 2, 2, 1          ; int 0x21, out 0x81, al, cli: the instructions that fault, in order

bits 16
v86code:
    mov ax, 0x1234               ; 3 bytes
    int 0x21                     ; IOPL 0: #GP(0)
    out 0x80, al                 ; allowed by the bitmap
    out 0x81, al                 ; denied: #GP(0)
    cli                          ; IOPL 0: #GP(0)
    hlt                          ; #GP(0), the 4th: the monitor stops
v86end:
bits 32

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff        ; 0x08 code 32, DPL0
    dq 0x00cf92000000ffff        ; 0x10 data 32, DPL0
    dq 0
    dq 0
    dw 0x68 + 0x20 + 1, tss, 0x8900, 0    ; 0x28 TSS with an I/O bitmap (plus the trailing 0xFF byte)
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 14*8 - 1
    dd idt
align 16
tss: times 0x68 db 0
     times 0x20 db 0
     db 0xff
align 8
idt:
    times 13 dq 0
    dw gp_handler, 0x08, 0x8e00, 0
