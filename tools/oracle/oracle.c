/*
 * oracle.c — run single x86 instructions on the host CPU and record what they did.
 *
 * A 32-bit Linux program (gcc -m32). It maps
 *   code  at 0x00100000 (4 KiB, RWX): the case's instruction bytes, then `jmp capture`
 *   data  at 0x00200000 (64 KiB, RW): zero-filled, then the case's memory regions
 * at fixed addresses, so the emulator can place the same bytes at the same physical
 * addresses (flat 32-bit, paging off) and compare.
 *
 * Cases arrive on stdin and results leave on stdout in the little-endian binary
 * protocol below; tools/oracle/generate.mjs drives it and writes the JSON fixtures.
 *
 *   case:   u8 codeLen, u8 caseFlags (bit 0: has x87 image), u16 memCount,
 *           u32 gpr[8] (EAX ECX EDX EBX ESP EBP ESI EDI), u32 eflags,
 *           u8 code[codeLen], [u8 fsave[108]], memCount x (u32 addr, u16 len, u8 bytes[len])
 *   result: u8 status (0 ran, 1 exception), u8 vector, u16 runCount,
 *           u32 gpr[8], u32 eflags, [u8 fsave[108] when the case had one and status is 0],
 *           runCount x (u32 addr, u16 len, u8 bytes[len]) — the data bytes that differ
 *           from the initial image after the instruction ran.
 *
 * An exception is caught through a signal handler running on an alternate stack (the
 * case's ESP points into the data area, and a signal frame pushed there would corrupt
 * it); the vector is the hardware one, taken from the trap number the kernel saved in
 * the signal context (SDM Vol. 3A 6.3.1: #DE=0, #UD=6, #GP=13, #PF=14, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>


#define CODE_BASE 0x00100000u
#define CODE_SIZE 0x1000u
#define DATA_BASE 0x00200000u
#define DATA_SIZE 0x10000u

#define MAX_CODE 64u

#define ORACLE_NAME "oracle"
#include "protocol.h"
#define FSAVE_SIZE 108u /* SDM Vol. 1 8.1.10, Figure 8-9: 32-bit protected-mode FSAVE image */

/* EFLAGS bits a case may set: CF PF AF ZF SF DF OF (SDM Vol. 1 3.4.3). Everything else
 * (IF, the reserved bit 1, AC, ID, ...) keeps the host's value on entry and is cleared
 * from the result, so the recorded EFLAGS never carry host-specific system bits. */
#define EFLAGS_CASE_MASK 0x00000CD5u
#define EFLAGS_RESERVED1 0x00000002u

#define CASE_HAS_FPU 0x01u

#define STATUS_RAN 0u
#define STATUS_EXCEPTION 1u

/* State shared with the assembly stubs below; plain globals because the stubs address
 * them absolutely (the binary is linked -no-pie). */
uint32_t oracle_in_gpr[8];
uint32_t oracle_in_eflags;
uint32_t oracle_out_gpr[8];
uint32_t oracle_out_eflags;
uint8_t oracle_in_fsave[FSAVE_SIZE];
uint8_t oracle_out_fsave[FSAVE_SIZE];
uint8_t oracle_has_fpu;
uint32_t oracle_host_esp;
uint32_t oracle_code_entry = CODE_BASE;

void oracle_enter(void);
void oracle_capture(void);

/*
 * oracle_enter: save the C callee-saved registers, set up x87 and EFLAGS on the host
 * stack, then load all eight GPRs (ESP last) and jump to the code page. Nothing after
 * POPFD touches the flags: MOV and an indirect JMP leave EFLAGS alone.
 *
 * oracle_capture: reached by the `jmp` the oracle appends to the instruction bytes.
 * It stores the GPRs with absolute MOVs before touching any stack (the case's ESP is
 * in the data area, and a push there would show up as a changed data byte), then
 * switches back to the host stack, records EFLAGS and the x87 image, and clears DF as
 * the C ABI requires. FNSAVE is the non-waiting form, so a pending x87 exception could
 * not fault here (every case masks them anyway); FNINIT hands C a clean FPU.
 */
__asm__(
    ".text\n"
    ".globl oracle_enter\n"
    "oracle_enter:\n"
    "    push %ebp\n"
    "    push %ebx\n"
    "    push %esi\n"
    "    push %edi\n"
    "    mov %esp, oracle_host_esp\n"
    "    fninit\n"
    "    cmpb $0, oracle_has_fpu\n"
    "    je 1f\n"
    "    frstor oracle_in_fsave\n"
    "1:\n"
    "    pushl oracle_in_eflags\n"
    "    popfl\n"
    "    mov oracle_in_gpr+0, %eax\n"
    "    mov oracle_in_gpr+4, %ecx\n"
    "    mov oracle_in_gpr+8, %edx\n"
    "    mov oracle_in_gpr+12, %ebx\n"
    "    mov oracle_in_gpr+20, %ebp\n"
    "    mov oracle_in_gpr+24, %esi\n"
    "    mov oracle_in_gpr+28, %edi\n"
    "    mov oracle_in_gpr+16, %esp\n"
    "    jmp *oracle_code_entry\n"
    "\n"
    ".globl oracle_capture\n"
    "oracle_capture:\n"
    "    mov %eax, oracle_out_gpr+0\n"
    "    mov %ecx, oracle_out_gpr+4\n"
    "    mov %edx, oracle_out_gpr+8\n"
    "    mov %ebx, oracle_out_gpr+12\n"
    "    mov %esp, oracle_out_gpr+16\n"
    "    mov %ebp, oracle_out_gpr+20\n"
    "    mov %esi, oracle_out_gpr+24\n"
    "    mov %edi, oracle_out_gpr+28\n"
    "    mov oracle_host_esp, %esp\n"
    "    pushfl\n"
    "    popl oracle_out_eflags\n"
    "    cld\n"
    "    cmpb $0, oracle_has_fpu\n"
    "    je 2f\n"
    "    fnsave oracle_out_fsave\n"
    "2:\n"
    "    fninit\n"
    "    pop %edi\n"
    "    pop %esi\n"
    "    pop %ebx\n"
    "    pop %ebp\n"
    "    ret\n");

static sigjmp_buf fault_jump;
static volatile sig_atomic_t fault_vector;

/* The kernel saved the hardware vector in the signal context; jump back to the case
 * loop. DF is already clear (the kernel clears it for the handler) and the host stack
 * is restored by siglongjmp; the case loop re-initialises the FPU. */
static void on_fault(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    const ucontext_t *uc = context;
    fault_vector = (sig_atomic_t)uc->uc_mcontext.gregs[REG_TRAPNO];
    siglongjmp(fault_jump, 1);
}

static void install_handlers(void)
{
    static uint8_t alt_stack[64 * 1024];
    stack_t ss = { .ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) != 0)
        die("sigaltstack");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            die("sigaction");
}

/* ---- one case ---------------------------------------------------------------------- */

static uint8_t data_image[DATA_SIZE]; /* what the data area held before the instruction */

static void run_case(uint8_t *code, uint8_t *data)
{
    uint8_t code_len = take_u8();
    uint8_t case_flags = take_u8();
    uint16_t mem_count = take_u16();
    for (int i = 0; i < 8; i++)
        oracle_in_gpr[i] = take_u32();
    uint32_t case_eflags = take_u32();
    if (code_len > MAX_CODE) {
        fprintf(stderr, "oracle: code of %u bytes exceeds %u\n", code_len, MAX_CODE);
        exit(2);
    }
    const uint8_t *bytes = take(code_len);
    oracle_has_fpu = (case_flags & CASE_HAS_FPU) != 0;
    if (oracle_has_fpu)
        memcpy(oracle_in_fsave, take(FSAVE_SIZE), FSAVE_SIZE);

    take_regions(mem_count, data_image);
    memcpy(data, data_image, DATA_SIZE);

    /* The instruction, then `jmp rel32` to the capture stub (E9 cd; SDM Vol. 2A JMP). */
    memcpy(code, bytes, code_len);
    uint32_t next = CODE_BASE + code_len + 5;
    uint32_t rel = (uint32_t)(uintptr_t)&oracle_capture - next;
    code[code_len] = 0xE9;
    memcpy(code + code_len + 1, &rel, 4);

    /* Only the arithmetic flags and DF come from the case; read the host's EFLAGS for the rest. */
    uint32_t host_eflags;
    __asm__ volatile("pushfl; popl %0" : "=r"(host_eflags));
    oracle_in_eflags = (host_eflags & ~EFLAGS_CASE_MASK) | (case_eflags & EFLAGS_CASE_MASK);

    if (sigsetjmp(fault_jump, 1) == 0) {
        oracle_enter();
        put_u8(STATUS_RAN);
        put_u8(0);
    } else {
        __asm__ volatile("fninit");
        put_u8(STATUS_EXCEPTION);
        put_u8((uint8_t)fault_vector);
        put_u16(0);
        for (int i = 0; i < 9; i++)
            put_u32(0);
        return;
    }

    /* Collect runs of data bytes that differ from the initial image. */
    size_t runs_at = out_len;
    put_u16(0);
    for (int i = 0; i < 8; i++)
        put_u32(oracle_out_gpr[i]);
    put_u32((oracle_out_eflags & EFLAGS_CASE_MASK) | EFLAGS_RESERVED1);
    if (oracle_has_fpu)
        put(oracle_out_fsave, FSAVE_SIZE);
    put_diff_runs(runs_at, data, data_image);
}

int main(void)
{
    uint8_t *code = map_fixed(CODE_BASE, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
    uint8_t *data = map_fixed(DATA_BASE, DATA_SIZE, PROT_READ | PROT_WRITE);
    install_handlers();
    read_all_stdin();
    while (in_pos < in_len)
        run_case(code, data);
    write_all_stdout();
    return 0;
}
