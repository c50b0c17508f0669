/*
 * Interrupt and exception entry stubs, one per vector, and the table of their addresses (vp_vector_stubs) that
 * both loaders turn into an IDT: vioplane's VMM finds it through the "vioplane" ELF note (type 1) and writes
 * 64-bit interrupt gates (DPL 3, code selector of the guest's own ring, so a handler runs in ring 3 on kvm_pvm
 * without a privilege change); the PVH path builds the same gates itself (vp_install_idt in runtime.c).
 * Vectors 8, 10-14, 17, 21, 29 and 30 push an error code (SDM Vol. 3, 6.13); the others get a 0 pushed here,
 * so every frame looks alike: vector, error code, RIP, CS, RFLAGS, RSP, SS.
 */
#define VIOPLANE_NOTE_VECTOR_TABLE 1

    .section .note.pvh, "a"
    .p2align 2
    .long 9                 /* namesz: "vioplane\0" */
    .long 8                 /* descsz */
    .long VIOPLANE_NOTE_VECTOR_TABLE
    .asciz "vioplane"
    .p2align 2
    .quad vp_vector_stubs

    .text
    .code64
.macro STUB vector
    .p2align 4
stub_\vector:
    .if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
    .else
    pushq $0
    .endif
    pushq $\vector
    jmp interrupt_common
.endm

/* Expands macro `what` for each vector from..to (recursion depth kept under gas's limit by 64-vector runs). */
.altmacro
.macro FOR_VECTORS what, from, to
    \what %\from
    .if \to-\from
    FOR_VECTORS \what, %(\from+1), \to
    .endif
.endm
.macro FOR_ALL_VECTORS what
    FOR_VECTORS \what, 0, 63
    FOR_VECTORS \what, 64, 127
    FOR_VECTORS \what, 128, 191
    FOR_VECTORS \what, 192, 255
.endm

    FOR_ALL_VECTORS STUB

interrupt_common:
    pushq %rbx
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    movq %rsp, %rdi             /* struct vp_frame * */
    movq %rsp, %rbx
    andq $-16, %rsp
    call vp_dispatch_interrupt
    movq %rbx, %rsp
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    popq %rbx
    addq $16, %rsp              /* vector and error code */
    iretq

.macro STUB_ADDRESS vector
    .quad stub_\vector
.endm

    .section .rodata
    .p2align 3
    .globl vp_vector_stubs
vp_vector_stubs:
    FOR_ALL_VECTORS STUB_ADDRESS
