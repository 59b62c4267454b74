; System-architecture checks run inside the guest. Starts in real mode at 0000:7C00, enters protected mode,
; provokes faults and records (vector, error code, extra) triples at RESULTS; the test compares them with
; the values the SDM specifies. Ends with HLT (interrupts disabled).
bits 16
org 0x7c00

RESULTS   equ 0x9000            ; dword count, then 3 dwords per event
STACK0    equ 0x7000
STACK3    equ 0x6000
PD        equ 0x20000           ; page directory
PT        equ 0x21000           ; page table for 0..4 MiB
TESTPAGE  equ 0x00300000        ; a 4 KiB page we unmap / protect (page index 0x300)

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
    mov fs, ax
    mov gs, ax
    mov esp, STACK0
    mov dword [RESULTS], 0
    ; fill the IDT: every vector -> generic handler stub for that vector
    mov ecx, 0
.fill:
    mov eax, [stub_table + ecx*4]
    mov edx, ecx
    shl edx, 3
    mov word [idt + edx], ax
    mov word [idt + edx + 2], 0x08
    mov word [idt + edx + 4], 0x8e00          ; present, DPL0, 32-bit interrupt gate
    shr eax, 16
    mov word [idt + edx + 6], ax
    inc ecx
    cmp ecx, 32
    jb .fill
    ; vector 0x80: DPL3 trap gate to syscall handler
    mov eax, syscall_handler
    mov word [idt + 0x80*8], ax
    mov word [idt + 0x80*8 + 2], 0x08
    mov word [idt + 0x80*8 + 4], 0xef00
    shr eax, 16
    mov word [idt + 0x80*8 + 6], ax
    ; TSS: ring-0 stack
    mov dword [tss + 4], STACK0
    mov dword [tss + 8], 0x10
    mov word [tss + 0x66], 0x68              ; I/O map base beyond the limit: no bitmap
    mov ax, 0x28
    ltr ax

    ; 1. #DE: div by zero. The handler skips the 2-byte instruction.
    xor edx, edx
    mov eax, 1
    xor ebx, ebx
    mov byte [skip], 2
    div ebx
    ; 2. #GP(sel): load DS with a selector beyond the GDT limit.
    mov byte [skip], 2
    mov ax, 0x78
    mov ds, ax
    ; 3. #UD: ud2 (2 bytes)
    mov byte [skip], 2
    ud2
    ; 4. #GP(0): write through a read-only data segment (selector 0x30, 3-byte instruction mov [eax], bl with ds)
    mov ax, 0x30
    mov es, ax
    mov byte [skip], 7
    mov [es:0x100], bl          ; 26 88 1D 00 01 00 00: 7 bytes

    ; 5. paging: identity map 0..4 MiB, mark TESTPAGE not present, access it.
    mov edi, PT
    mov eax, 0x007             ; present, writable, user
    mov ecx, 1024
.pt:
    mov [edi], eax
    add eax, 0x1000
    add edi, 4
    loop .pt
    mov dword [PT + 0x300*4], 0                 ; TESTPAGE not present
    mov dword [PD], PT | 0x007                  ; user-accessible directory entry
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov byte [skip], 10
    mov dword [TESTPAGE + 0x10], 1              ; C7 05 disp32 imm32: 10 bytes
    ; 6. read-only page with CR0.WP: supervisor write faults with P=1 W=1
    mov dword [PT + 0x300*4], TESTPAGE | 0x005  ; present, read-only, user
    invlpg [TESTPAGE]
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    mov byte [skip], 10
    mov dword [TESTPAGE + 0x10], 1
    ; 7. go to ring 3 with IRET, then int 0x80 from ring 3 (stack switch), then cli (IOPL 0: #GP(0))
    push dword 0x23              ; SS
    push dword STACK3            ; ESP
    push dword 0x002             ; EFLAGS (IF=0, IOPL=0)
    push dword 0x1b              ; CS
    push dword ring3
    iret

ring3:
    mov ax, 0x23
    mov ds, ax
    int 0x80
    mov byte [skip], 1
    cli
    mov byte [skip], 2
    in al, 0x80
    int 0x81                     ; a DPL0 gate from ring 3: #GP(0x81*8+2), 2 bytes
    mov byte [skip], 1
    hlt                          ; privileged in ring 3: #GP(0)
    mov byte [skip], 10
    mov dword [TESTPAGE + 0x10], 2   ; a user write to a read-only user page: #PF with P=1 W=1 U=1
    int 0x80                     ; the last event: the handler ends the test

; ---- handlers ----
generic:
    ; stack: [esp] vector, [esp+4] error code (0 pushed by the stub if the CPU pushes none), then EIP CS EFLAGS
    push eax
    push ebx
    push edx
    push ds
    mov ax, 0x10
    mov ds, ax
    mov ebx, [RESULTS]
    lea edx, [RESULTS + 4 + ebx*4]
    lea edx, [edx + ebx*8]
    mov eax, [esp + 16]
    mov [edx], eax               ; vector
    mov eax, [esp + 20]
    mov [edx + 4], eax           ; error code
    mov eax, cr2
    mov [edx + 8], eax           ; CR2 (meaningful for #PF)
    inc dword [RESULTS]
    movzx eax, byte [skip]
    add [esp + 24], eax          ; skip the faulting instruction
    pop ds
    pop edx
    pop ebx
    pop eax
    add esp, 8
    iret

syscall_handler:
    ; record (0x80, CS of the caller, ESP of the caller's frame SS)
    push eax
    push edx
    mov ax, 0x10
    mov ds, ax
    mov eax, [RESULTS]
    lea edx, [RESULTS + 4 + eax*4]
    lea edx, [edx + eax*8]
    mov dword [edx], 0x80
    mov eax, [esp + 12]          ; CS pushed by the CPU
    mov [edx + 4], eax
    mov eax, [esp + 24]          ; SS pushed by the CPU (inter-privilege frame)
    mov [edx + 8], eax
    inc dword [RESULTS]
    cmp dword [RESULTS], 13
    jae done
    mov ax, 0x23
    mov ds, ax
    pop edx
    pop eax
    iret

done:
    cli
    hlt
    jmp done

%macro STUB_NOERR 1
stub%1:
    push dword 0
    push dword %1
    jmp generic
%endmacro
%macro STUB_ERR 1
stub%1:
    push dword %1
    jmp generic
%endmacro
%assign i 0
%rep 32
  %if i == 8 || (i >= 10 && i <= 14) || i == 17
    STUB_ERR i
  %else
    STUB_NOERR i
  %endif
  %assign i i+1
%endrep

stub_table:
%assign i 0
%rep 32
    dd stub %+ i
  %assign i i+1
%endrep

skip: db 0
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff        ; 0x08 code 32, DPL0
    dq 0x00cf92000000ffff        ; 0x10 data 32, DPL0
    dq 0x00cffa000000ffff        ; 0x18 code 32, DPL3
    dq 0x00cff2000000ffff        ; 0x20 data 32, DPL3
    dw 0x67, tss, 0x8900, 0      ; 0x28 32-bit TSS (base < 64 KiB)
    dq 0x00cf90000000ffff        ; 0x30 data 32, read-only, DPL0
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 256*8 - 1
    dd idt
align 16
tss: times 0x68 db 0
align 16
idt: times 256*8 db 0
