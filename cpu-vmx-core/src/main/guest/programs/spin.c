/* Hostile: spins forever in guest code and never exits to the VMM. */
#include "../runtime/vioplane.h"

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    vp_puts("spinning forever\n");
    for (;;) {
        __asm__ volatile("" ::: "memory");
    }
    return 0;
}
