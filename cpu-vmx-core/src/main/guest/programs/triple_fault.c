/* Hostile: raises #UD with no usable IDT, which escalates to a triple fault (SDM Vol. 3, 6.15, #DF). */
#include "../runtime/vioplane.h"

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    vp_puts("about to execute ud2 with no exception handlers\n");
    __asm__ volatile("ud2");
    return 0;
}
