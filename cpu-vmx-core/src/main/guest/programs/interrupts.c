/* Exceptions reach the program's own handlers and return: int3 (#BP, a trap) and ud2 (#UD, a fault, skipped by
   advancing RIP past the 2-byte instruction). On kvm_pvm both are delivered in ring 3 through DPL-3 gates. */
#include "../runtime/vioplane.h"

static volatile u32 breakpoints;
static volatile u32 invalid_opcodes;

static void on_breakpoint(struct vp_frame *frame) {
    (void) frame;
    breakpoints++;
}

static void on_invalid_opcode(struct vp_frame *frame) {
    invalid_opcodes++;
    frame->rip += 2;
}

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    vp_on_interrupt(3, on_breakpoint);
    vp_on_interrupt(6, on_invalid_opcode);
    for (int i = 0; i < 3; i++) {
        __asm__ volatile("int3" ::: "memory");
    }
    __asm__ volatile("ud2" ::: "memory");
    char line[64];
    char *end = vp_append(line, "int3=");
    end = vp_append_u64(end, breakpoints);
    end = vp_append(end, " ud=");
    vp_append_u64(end, invalid_opcodes);
    vp_result(line);
    return breakpoints == 3 && invalid_opcodes == 1 ? 0 : 1;
}
