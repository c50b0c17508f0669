/*
 * The exit-loop benchmark guest (issue 11, performance): per round, N 4-byte MMIO writes that a VMM handler in
 * user space serves (each one a full exit round trip: guest -> KVM -> VMM -> KVM -> guest), then N writes to an
 * address an ioeventfd claims (served inside KVM, no return to the VMM). Each phase is bracketed by BEGIN/END
 * writes so the VMM can time it and read KVM's statistics at both ends; the guest times it with rdtsc too.
 *
 * Needs the bench device (perf: io.vioplane.perf.vmx.ExitLoopDevice, or perf/src/main/c/minivmm.c):
 *   0xD0100000 + 0x00 r4 ROUNDS        rounds to run
 *              + 0x04 r4 ITERATIONS    writes per phase
 *              + 0x08 w4 BEGIN         phase (0 MMIO, 1 ioeventfd) | round << 8
 *              + 0x0C w4 END           same value as BEGIN
 *              + 0x10 w4 LOOP          the measured write: the handler only stores it
 *   0xD0200000 w4                      claimed by an ioeventfd (any value)
 * Without that device the first read is an unclaimed MMIO access and the VMM stops the guest.
 */
#include "../runtime/vioplane.h"

#define BENCH_GPA 0xD0100000UL
#define BENCH_ROUNDS 0x00
#define BENCH_ITERATIONS 0x04
#define BENCH_BEGIN 0x08
#define BENCH_END 0x0C
#define BENCH_LOOP 0x10
#define IOEVENTFD_GPA 0xD0200000UL

static u64 phase(u32 id, u64 target_gpa, u32 iterations) {
    vp_mmio_write32(BENCH_GPA + BENCH_BEGIN, id);
    const u64 start = vp_rdtsc();
    for (u32 i = 0; i < iterations; i++) {
        vp_mmio_write32(target_gpa, i);
    }
    const u64 cycles = vp_rdtsc() - start;
    vp_mmio_write32(BENCH_GPA + BENCH_END, id);
    return cycles;
}

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    const u32 rounds = vp_mmio_read32(BENCH_GPA + BENCH_ROUNDS);
    const u32 iterations = vp_mmio_read32(BENCH_GPA + BENCH_ITERATIONS);
    if (rounds == 0 || iterations == 0 || rounds > 1000 || iterations > 100000000) {
        vp_puts("exit_loop: bad ROUNDS/ITERATIONS from the bench device\n");
        return 2;
    }
    u64 mmio_cycles = 0, ioeventfd_cycles = 0;
    for (u32 round = 0; round < rounds; round++) {
        mmio_cycles = phase(0 | round << 8, BENCH_GPA + BENCH_LOOP, iterations);
        ioeventfd_cycles = phase(1 | round << 8, IOEVENTFD_GPA, iterations);
        vp_puts("round ");
        vp_put_u64(round);
        vp_puts(": mmio TSC cycles/write ");
        vp_put_u64(mmio_cycles / iterations);
        vp_puts(", ioeventfd TSC cycles/write ");
        vp_put_u64(ioeventfd_cycles / iterations);
        vp_putc('\n');
    }
    char line[128];
    char *end = vp_append(line, "rounds=");
    end = vp_append_u64(end, rounds);
    end = vp_append(end, " writes=");
    end = vp_append_u64(end, iterations);
    end = vp_append(end, " mmio_cycles_per_write=");
    end = vp_append_u64(end, mmio_cycles / iterations);
    end = vp_append(end, " ioeventfd_cycles_per_write=");
    vp_append_u64(end, ioeventfd_cycles / iterations);
    vp_result(line);
    return 0;
}
