/*
 * oracle64.c — the host-CPU oracle for long REP MOVS / REP STOS runs, as a 64-bit program.
 *
 * oracle.c runs cases as 32-bit code, which needs a kernel with IA32 emulation. REP MOVS and
 * REP STOS do the same thing in 64-bit mode with an address-size prefix (67h: ECX, ESI and
 * EDI, zero-extended; SDM Vol. 2B "MOVS", "REP"), so this program runs a case's bytes with
 * 67h in front. It speaks oracle.c's protocol (see there) for cases whose code is one string
 * instruction with its prefixes and no memory outside the data area at 0x00200000 (64 KiB).
 *
 * Only EAX, ECX, ESI, EDI and the case's EFLAGS bits reach the instruction: EDX, EBX, ESP
 * and EBP are reported as they came in (the 64-bit program needs its own stack; MOVS and
 * STOS do not use them).
 * A case that faults is an error of the generator: the program stops with a message.
 */
#define _GNU_SOURCE
#define CODE_BASE 0x00100000u
#define DATA_BASE 0x00200000u
#define DATA_SIZE 0x10000u
#define MAX_CODE 15u
#define EFLAGS_CASE_MASK 0x00000CD5u
#define EFLAGS_RESERVED1 0x00000002u

#define ORACLE_NAME "oracle64"
#include "protocol.h"

static void run_case(uint8_t *code, uint8_t *data, uint8_t *image)
{
    uint8_t code_len = take_u8(), flags = take_u8();
    uint16_t mem_count = take_u16();
    uint32_t gpr[8];
    for (int i = 0; i < 8; i++) gpr[i] = take_u32();
    uint32_t eflags = take_u32();
    if (flags != 0 || code_len == 0 || code_len > MAX_CODE) {
        fprintf(stderr, "oracle64: only integer string cases of 1..%u bytes\n", MAX_CODE);
        exit(2);
    }
    const uint8_t *bytes = take(code_len);
    take_regions(mem_count, image);
    memcpy(data, image, DATA_SIZE);
    code[0] = 0x67; /* address size 32 */
    memcpy(code + 1, bytes, code_len);
    code[1 + code_len] = 0xC3; /* ret */

    uint64_t host_flags, out_flags;
    __asm__ volatile("pushfq; pop %0" : "=r"(host_flags));
    uint64_t rax = gpr[0], rcx = gpr[1], rsi = gpr[6], rdi = gpr[7];
    uint64_t in_flags = (host_flags & ~(uint64_t)EFLAGS_CASE_MASK) | (eflags & EFLAGS_CASE_MASK);
    __asm__ volatile(
        "sub $128, %%rsp\n\t" /* the call must not overwrite this function's red zone */
        "push %[in]\n\t"
        "popfq\n\t"
        "call *%[code]\n\t"
        "pushfq\n\t"
        "pop %[fl]\n\t"
        "add $128, %%rsp\n\t"
        "cld"
        : "+a"(rax), "+c"(rcx), "+S"(rsi), "+D"(rdi), [fl] "=&r"(out_flags)
        : [code] "r"(code), [in] "r"(in_flags)
        : "memory", "cc");
    gpr[0] = (uint32_t)rax; gpr[1] = (uint32_t)rcx; gpr[6] = (uint32_t)rsi; gpr[7] = (uint32_t)rdi;

    put_u8(0); /* ran */
    put_u8(0);
    size_t runs_at = out_len;
    put_u16(0);
    for (int i = 0; i < 8; i++) put_u32(gpr[i]);
    put_u32(((uint32_t)out_flags & EFLAGS_CASE_MASK) | EFLAGS_RESERVED1);
    put_diff_runs(runs_at, data, image);
}

int main(void)
{
    uint8_t *code = map_fixed(CODE_BASE, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC);
    uint8_t *data = map_fixed(DATA_BASE, DATA_SIZE, PROT_READ | PROT_WRITE);
    static uint8_t image[DATA_SIZE];
    read_all_stdin();
    while (in_pos < in_len)
        run_case(code, data, image);
    write_all_stdout();
    return 0;
}
