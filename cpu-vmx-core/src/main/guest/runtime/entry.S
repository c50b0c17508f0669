/*
 * Entry points of a vioplane guest image.
 *
 * _start64: vioplane's loader enters here in 64-bit mode (ring 3 on kvm_pvm, ring 0 on VT-x), with paging,
 *           GDT, TSS and stack already set up and the guest RAM size in RDI. Console and exit go through the
 *           VMM debug device (MMIO).
 * pvh_start32: a PVH loader (QEMU -kernel, XEN_ELFNOTE_PHYS32_ENTRY) enters here in 32-bit protected mode,
 *           paging off, EBX = start_info. This path builds its own identity page tables (4 GiB, 2 MiB pages),
 *           switches to long mode, and uses QEMU's isa-debugcon (port 0xe9) and isa-debug-exit (port 0xf4).
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

    .section .note.pvh, "a"
    .p2align 2
    .long 4                 /* namesz: "Xen\0" */
    .long 4                 /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .long pvh_start32

    .section .text.entry, "ax"
    .code64
    .globl _start64
_start64:
    movl $0, vp_platform(%rip)
    call vp_start
1:  jmp 1b

    .code32
    .globl pvh_start32
pvh_start32:
    cli
    movl $pvh_stack_top, %esp
    /* PML4[0] -> PDPT, PDPT[0..3] -> the four page directories, PD entries: 2 MiB pages, present, writable. */
    movl $pvh_pml4, %edi
    movl $pvh_pdpt, %eax
    orl $0x3, %eax
    movl %eax, (%edi)
    movl $pvh_pdpt, %edi
    movl $pvh_pd, %eax
    orl $0x3, %eax
    movl $4, %ecx
2:  movl %eax, (%edi)
    addl $0x1000, %eax
    addl $8, %edi
    loop 2b
    movl $pvh_pd, %edi
    movl $0x83, %eax
    xorl %edx, %edx
    movl $2048, %ecx
3:  movl %eax, (%edi)
    movl %edx, 4(%edi)
    addl $0x200000, %eax
    adcl $0, %edx
    addl $8, %edi
    loop 3b
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl $pvh_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx          /* EFER */
    rdmsr
    orl $0x100, %eax                /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG | PE */
    movl %eax, %cr0
    lgdt pvh_gdt_pointer
    ljmp $0x08, $pvh_long_mode

    .code64
pvh_long_mode:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movq $pvh_stack_top, %rsp
    movl $1, vp_platform(%rip)
    xorl %edi, %edi
    call vp_start
4:  hlt
    jmp 4b

    .section .rodata
    .p2align 3
pvh_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code, ring 0 */
    .quad 0x00CF92000000FFFF        /* 0x10: data, ring 0 */
pvh_gdt_end:
pvh_gdt_pointer:
    .word pvh_gdt_end - pvh_gdt - 1
    .long pvh_gdt

    .section .bss
    .p2align 12
pvh_pml4: .skip 0x1000
pvh_pdpt: .skip 0x1000
pvh_pd:   .skip 0x4000
pvh_stack: .skip 0x4000
pvh_stack_top:
