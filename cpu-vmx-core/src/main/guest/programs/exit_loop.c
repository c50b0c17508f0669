/*
 * The exit-loop benchmark guest (issue 11, performance): per round, N 4-byte MMIO writes that a VMM handler in
 * user space serves (each one a full exit round trip: guest -> KVM -> VMM -> KVM -> guest), then N writes to an
 * address an ioeventfd claims (served inside KVM, no return to the VMM), then, when the VMM offers an interrupt
 * vector, N interrupt round trips: a kick through a second ioeventfd, which the VMM's notifier thread answers by
 * signalling an irqfd routed as an MSI to that vector; the guest waits for its handler to run (the handler ends
 * with an EOI to the in-kernel local APIC) before it kicks again. Each phase is bracketed by BEGIN/END writes so the
 * VMM can time it and read KVM's statistics at both ends; the guest times it with rdtsc too.
 *
 * Needs the bench device (perf: io.vioplane.perf.vmx.ExitLoopDevice, or perf/src/main/c/minivmm.c):
 *   0xD0100000 + 0x00 r4 ROUNDS        rounds to run
 *              + 0x04 r4 ITERATIONS    writes per phase
 *              + 0x08 w4 BEGIN         phase (0 MMIO, 1 ioeventfd) | round << 8
 *              + 0x0C w4 END           same value as BEGIN
 *              + 0x10 w4 LOOP          the measured write: the handler only stores it
 *              + 0x14 r4 IRQ_VECTOR    vector of the irqfd phase's MSI (0: the VMM offers no irqfd phase)
 *   0xD0200000 w4                      claimed by an ioeventfd (any value)
 *   0xD0300000 w4                      the irqfd phase's kick, claimed by a second ioeventfd
 * The irqfd phase needs interrupts enabled at entry (vioplane's loader enters a ring-3 image that brings handlers
 * with IF set, since ring 3 cannot execute sti) and software-enables the local APIC (SDM Vol. 3, 11.4.7.2).
 * Without that device the first read is an unclaimed MMIO access and the VMM stops the guest.
 */
#include "../runtime/vioplane.h"

#define BENCH_GPA 0xD0100000UL
#define BENCH_ROUNDS 0x00
#define BENCH_ITERATIONS 0x04
#define BENCH_BEGIN 0x08
#define BENCH_END 0x0C
#define BENCH_LOOP 0x10
#define BENCH_IRQ_VECTOR 0x14
#define IOEVENTFD_GPA 0xD0200000UL
#define KICK_GPA 0xD0300000UL
#define LAPIC_GPA 0xFEE00000UL
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_SVR_ENABLE (1u << 8)
#define SPURIOUS_VECTOR 0xFF
#define PHASE_MMIO 0
#define PHASE_IOEVENTFD 1
#define PHASE_IRQFD 2

static volatile u64 interrupts_seen;

static void on_bench_interrupt(struct vp_frame *frame) {
    (void) frame;
    interrupts_seen++;
    vp_mmio_write32(LAPIC_GPA + LAPIC_EOI, 0);
}

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

static u64 irqfd_phase(u32 id, u32 iterations) {
    vp_mmio_write32(BENCH_GPA + BENCH_BEGIN, id);
    const u64 start = vp_rdtsc();
    for (u32 i = 0; i < iterations; i++) {
        const u64 before = interrupts_seen;
        vp_mmio_write32(KICK_GPA, i);
        while (interrupts_seen == before) {
            __asm__ volatile("pause" ::: "memory");
        }
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
    const u32 vector = vp_mmio_read32(BENCH_GPA + BENCH_IRQ_VECTOR);
    if (vector != 0 && (vector < 32 || vector > 254)) {
        vp_puts("exit_loop: bad IRQ_VECTOR from the bench device\n");
        return 2;
    }
    if (vector != 0) {
        vp_on_interrupt(vector, on_bench_interrupt);
        u16 cs;
        __asm__ volatile("mov %%cs, %0" : "=r"(cs));
        if ((cs & 3) == 0) {
            __asm__ volatile("sti" ::: "memory");
        }
        vp_mmio_write32(LAPIC_GPA + LAPIC_SVR, LAPIC_SVR_ENABLE | SPURIOUS_VECTOR);
    }
    u64 mmio_cycles = 0, ioeventfd_cycles = 0, irqfd_cycles = 0;
    for (u32 round = 0; round < rounds; round++) {
        mmio_cycles = phase(PHASE_MMIO | round << 8, BENCH_GPA + BENCH_LOOP, iterations);
        ioeventfd_cycles = phase(PHASE_IOEVENTFD | round << 8, IOEVENTFD_GPA, iterations);
        if (vector != 0) {
            irqfd_cycles = irqfd_phase(PHASE_IRQFD | round << 8, iterations);
        }
        vp_puts("round ");
        vp_put_u64(round);
        vp_puts(": mmio TSC cycles/write ");
        vp_put_u64(mmio_cycles / iterations);
        vp_puts(", ioeventfd TSC cycles/write ");
        vp_put_u64(ioeventfd_cycles / iterations);
        if (vector != 0) {
            vp_puts(", irqfd round trip TSC cycles ");
            vp_put_u64(irqfd_cycles / iterations);
        }
        vp_putc('\n');
    }
    char line[192];
    char *end = vp_append(line, "rounds=");
    end = vp_append_u64(end, rounds);
    end = vp_append(end, " writes=");
    end = vp_append_u64(end, iterations);
    end = vp_append(end, " mmio_cycles_per_write=");
    end = vp_append_u64(end, mmio_cycles / iterations);
    end = vp_append(end, " ioeventfd_cycles_per_write=");
    end = vp_append_u64(end, ioeventfd_cycles / iterations);
    end = vp_append(end, " irqfd_cycles_per_round_trip=");
    vp_append_u64(end, irqfd_cycles / iterations);
    vp_result(line);
    return 0;
}
