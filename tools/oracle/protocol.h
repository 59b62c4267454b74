/*
 * protocol.h — what oracle.c and oracle64.c share: the fixed mappings, the stdin/stdout
 * buffers of the case/result protocol described in oracle.c, a case's memory regions and
 * the result's runs of changed data bytes. Included once by each program (static
 * functions); the includer defines ORACLE_NAME, DATA_BASE and DATA_SIZE first.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; older headers lack the name */
#endif

static void die(const char *what)
{
    fprintf(stderr, ORACLE_NAME ": %s: %s\n", what, strerror(errno));
    exit(2);
}

static void *map_fixed(uint32_t addr, uint32_t size, int prot)
{
    void *want = (void *)(uintptr_t)addr;
    void *got = mmap(want, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == MAP_FAILED) {
        fprintf(stderr, ORACLE_NAME ": cannot map 0x%08x (+0x%x): %s (needs Linux >= 4.17 for "
                        "MAP_FIXED_NOREPLACE and a free range there)\n",
                addr, size, strerror(errno));
        exit(2);
    }
    if (got != want) {
        /* A kernel older than 4.17 treats the unknown flag as a mere hint. */
        fprintf(stderr, ORACLE_NAME ": asked for 0x%08x, kernel gave %p: MAP_FIXED_NOREPLACE "
                        "is not supported by this kernel\n", addr, got);
        exit(2);
    }
    return got;
}

/* ---- stdin/stdout buffers ---------------------------------------------------------- */

static uint8_t *in_buf;
static size_t in_len, in_pos;
static uint8_t *out_buf;
static size_t out_len, out_cap;

static void read_all_stdin(void)
{
    size_t cap = 1 << 20;
    in_buf = malloc(cap);
    if (!in_buf)
        die("malloc");
    for (;;) {
        if (in_len == cap) {
            cap *= 2;
            in_buf = realloc(in_buf, cap);
            if (!in_buf)
                die("realloc");
        }
        ssize_t n = read(0, in_buf + in_len, cap - in_len);
        if (n < 0)
            die("read stdin");
        if (n == 0)
            break;
        in_len += (size_t)n;
    }
}

static const uint8_t *take(size_t n)
{
    if (in_len - in_pos < n) {
        fprintf(stderr, ORACLE_NAME ": truncated case at byte %zu\n", in_pos);
        exit(2);
    }
    const uint8_t *p = in_buf + in_pos;
    in_pos += n;
    return p;
}

static uint32_t take_u32(void) { uint32_t v; memcpy(&v, take(4), 4); return v; }
static uint16_t take_u16(void) { uint16_t v; memcpy(&v, take(2), 2); return v; }
static uint8_t take_u8(void) { return *take(1); }

static void put(const void *p, size_t n)
{
    if (out_cap - out_len < n) {
        while (out_cap - out_len < n)
            out_cap = out_cap ? out_cap * 2 : (1 << 20);
        out_buf = realloc(out_buf, out_cap);
        if (!out_buf)
            die("realloc");
    }
    memcpy(out_buf + out_len, p, n);
    out_len += n;
}

static void put_u32(uint32_t v) { put(&v, 4); }
static void put_u16(uint16_t v) { put(&v, 2); }
static void put_u8(uint8_t v) { put(&v, 1); }

/* A case's memory regions: the data area's initial image (zeros elsewhere). */
static void take_regions(unsigned count, uint8_t *image)
{
    memset(image, 0, DATA_SIZE);
    for (unsigned i = 0; i < count; i++) {
        uint32_t addr = take_u32();
        uint16_t len = take_u16();
        const uint8_t *src = take(len);
        if (addr < DATA_BASE || addr - DATA_BASE > DATA_SIZE - len) {
            fprintf(stderr, ORACLE_NAME ": memory region 0x%08x+%u is outside the data area\n", addr, len);
            exit(2);
        }
        memcpy(image + (addr - DATA_BASE), src, len);
    }
}

/* The data bytes that differ from the initial image, as runs; their count goes to the
 * u16 at out_buf + runs_at, which the caller reserved. */
static void put_diff_runs(size_t runs_at, const uint8_t *data, const uint8_t *image)
{
    uint16_t runs = 0;
    for (uint32_t off = 0; off < DATA_SIZE;) {
        if (data[off] == image[off]) {
            off++;
            continue;
        }
        uint32_t end = off;
        while (end < DATA_SIZE && end - off < 0xFFFF && data[end] != image[end])
            end++;
        put_u32(DATA_BASE + off);
        put_u16((uint16_t)(end - off));
        put(data + off, end - off);
        runs++;
        off = end;
    }
    memcpy(out_buf + runs_at, &runs, 2);
}

static void write_all_stdout(void)
{
    for (size_t done = 0; done < out_len;) {
        ssize_t n = write(1, out_buf + done, out_len - done);
        if (n < 0)
            die("write stdout");
        done += (size_t)n;
    }
}
