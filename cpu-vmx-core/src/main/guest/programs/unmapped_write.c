/* Hostile: writes to a guest-physical address that neither RAM nor any device backs. */
#include "../runtime/vioplane.h"

#define UNCLAIMED_GPA 0xC0000000UL

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    vp_puts("writing to an unclaimed guest-physical address\n");
    *(volatile u32 *) UNCLAIMED_GPA = 0xdeadbeef;
    vp_puts("the write returned\n");
    return 0;
}
