/* Hostile: points the stack at a non-canonical address and raises #UD. Delivering the exception needs the stack
   (#SS), delivering that one too (#DF), and a fault while delivering #DF is a triple fault (SDM Vol. 3, 6.15). */
#include "../runtime/vioplane.h"

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    vp_puts("about to execute ud2 on a non-canonical stack\n");
    __asm__ volatile("movabs $0x0000800000000000, %%rsp\n\tud2" ::: "memory");
    return 0;
}
