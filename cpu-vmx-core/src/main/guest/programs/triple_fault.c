/* Hostile: points the stack at a non-canonical address and raises #UD. Delivering the exception needs the stack
   (#SS), delivering that one too (#DF), and a fault while delivering #DF is a triple fault (SDM Vol. 3, 6.15).
   In ring 3 the loader's gates lead to ring-3 handlers (no stack switch), but kvm_pvm delivers an exception from
   ring 3 on the TSS's RSP0 stack (seen on this project's machines), so the program also points RSP0 of the TSS that
   vioplane's loader builds at the same non-canonical address. */
#include "../runtime/vioplane.h"

#define LOADER_TSS_GPA 0x3000UL
#define TSS_RSP0_OFFSET 4UL
#define NON_CANONICAL_RSP 0x0000800000000000UL

static int current_ring(void) {
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    return cs & 3;
}

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    if (current_ring() == 3) {
        vp_puts("ring 3: pointing the TSS's RSP0 at a non-canonical address\n");
        *(volatile u64 *) (LOADER_TSS_GPA + TSS_RSP0_OFFSET) = NON_CANONICAL_RSP;
    }
    vp_puts("about to execute ud2 on a non-canonical stack\n");
    __asm__ volatile("movabs %0, %%rsp\n\tud2" : : "i"(NON_CANONICAL_RSP) : "memory");
    return 0;
}
