/* Computes two small known answers, times them with rdtsc, prints, and reports a deterministic result line. */
#include "../runtime/vioplane.h"

static u64 fibonacci(u32 n) {
    u64 a = 0, b = 1;
    for (u32 i = 0; i < n; i++) {
        const u64 next = a + b;
        a = b;
        b = next;
    }
    return a;
}

static u32 primes_below(u32 limit) {
    u32 count = 0;
    for (u32 n = 2; n < limit; n++) {
        u32 prime = 1;
        for (u32 d = 2; d * d <= n; d++) {
            if (n % d == 0) {
                prime = 0;
                break;
            }
        }
        count += prime;
    }
    return count;
}

int vp_main(u64 ram_bytes) {
    vp_puts("hello from a vioplane guest\n");
    if (ram_bytes != 0) {
        vp_puts("guest RAM bytes: ");
        vp_put_u64(ram_bytes);
        vp_putc('\n');
    }
    const u64 start = vp_rdtsc();
    const u64 fib = fibonacci(90);
    const u32 primes = primes_below(10000);
    const u64 cycles = vp_rdtsc() - start;
    vp_puts("computed in ");
    vp_put_u64(cycles);
    vp_puts(" TSC cycles\n");
    char line[96];
    char *end = vp_append(line, "fib(90)=");
    end = vp_append_u64(end, fib);
    end = vp_append(end, " primes<10000=");
    vp_append_u64(end, primes);
    vp_result(line);
    return fib == 2880067194370816120UL && primes == 1229 ? 0 : 1;
}
