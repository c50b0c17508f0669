/*
 * minivmm: the C reference VMM of the exit-loop benchmark (issue 11, performance). It runs a vioplane guest image
 * (cpu-vmx-core/src/main/guest, here exit_loop.elf) on /dev/kvm the way vioplane's Machine does, with the least
 * code: the same KVM set-up (memfd RAM pre-faulted with MADV_POPULATE_WRITE, TSS address, in-kernel irqchip, the
 * host's supported CPUID), the ELF's PT_LOAD segments copied to their physical addresses, and a fixed copy of
 * vioplane's BootTables (GDT at 0x1000, IDT at 0x2000 with gates to the image's interrupt entry table from its
 * "vioplane" note, TSS at 0x3000, identity page tables for 4 GiB with 2 MiB pages at 0x8000, stack top 0xF0000,
 * RDI = RAM bytes), entered in the ring vioplane's KvmBackend chooses: ring 3 on kvm_pvm (with RFLAGS.IF set, as
 * vioplane's loader does for an image with handlers), ring 0 on VT-x or SVM. No PCI, no watchdog.
 *
 * Devices: the VMM debug device at 0xD0000000 (console, result, exit: the same registers as DebugDevice.java) and
 * the bench device at 0xD0100000 (see exit_loop.c); its LOOP handler only stores the value, like the Java one.
 * An ioeventfd (no datamatch) claims 4 bytes at 0xD0200000; a second one the irqfd phase's kick at 0xD0300000,
 * which a notifier thread answers by signalling an irqfd on GSI 24, routed as an MSI to vector 0x40 (the same as
 * perf's IrqfdResponder).
 *
 * For each BEGIN/END pair it prints one line, the same fields as the Java harness:
 *   phase=mmio round=R writes=N ns=T kvm_exits=E kvm_mmio_exits=M vmm_mmio_exits=V
 * where the counts are deltas from BEGIN to END (so they include the END write's own exit). Console lines are
 * printed as "console: ...", the result line as "result: ...".
 *
 * usage: minivmm IMAGE.elf ROUNDS WRITES [RAM_MIB]     exit status: the guest's, or 100+ on a VMM error
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEBUG_GPA 0xD0000000UL
#define BENCH_GPA 0xD0100000UL
#define IOEVENTFD_GPA 0xD0200000UL
#define KICK_GPA 0xD0300000UL
#define IRQ_VECTOR 0x40
#define IRQ_GSI 24
#define VECTOR_TABLE_NOTE 1
#define PAGE_BYTES 0x1000UL

static uint8_t *ram;
static uint64_t ram_bytes;
static int stats_fd = -1;
static uint64_t stats_data_offset;
static int64_t stat_exits = -1, stat_mmio_exits = -1;
static uint64_t vmm_mmio_exits;
static uint32_t rounds, writes;
static uint64_t last_loop_value;

static void die(const char *what) {
    fprintf(stderr, "minivmm: %s: %s\n", what, strerror(errno));
    exit(101);
}

static int xioctl(int fd, unsigned long request, void *argument, const char *what) {
    int result = ioctl(fd, request, argument);
    if (result < 0) {
        die(what);
    }
    return result;
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t) t.tv_sec * 1000000000UL + (uint64_t) t.tv_nsec;
}

/* KVM_GET_STATS_FD (api.rst 4.133): header, descriptors, data; the offsets of "exits" and "mmio_exits". */
static void open_stats(int vcpu_fd) {
    stats_fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
    if (stats_fd < 0) {
        return;
    }
    struct kvm_stats_header header;
    if (pread(stats_fd, &header, sizeof header, 0) != sizeof header) {
        die("stats header");
    }
    size_t descriptor_bytes = sizeof(struct kvm_stats_desc) + header.name_size;
    uint8_t *descriptors = malloc(descriptor_bytes * header.num_desc);
    if (pread(stats_fd, descriptors, descriptor_bytes * header.num_desc, header.desc_offset)
        != (ssize_t) (descriptor_bytes * header.num_desc)) {
        die("stats descriptors");
    }
    for (uint32_t i = 0; i < header.num_desc; i++) {
        struct kvm_stats_desc *d = (struct kvm_stats_desc *) (descriptors + i * descriptor_bytes);
        if (strncmp(d->name, "exits", header.name_size) == 0) {
            stat_exits = d->offset;
        } else if (strncmp(d->name, "mmio_exits", header.name_size) == 0) {
            stat_mmio_exits = d->offset;
        }
    }
    stats_data_offset = header.data_offset;
    free(descriptors);
}

static uint64_t kvm_stat(int64_t offset) {
    uint64_t value = 0;
    if (offset >= 0 && pread(stats_fd, &value, 8, stats_data_offset + offset) != 8) {
        die("stats read");
    }
    return value;
}

static uint64_t vector_table_gva;

/* The "vioplane" note of type 1 (ElfImage.java): the address of the image's 256 interrupt entry points. */
static void read_notes(const uint8_t *file, uint64_t offset, uint64_t size) {
    uint64_t at = offset, end = offset + size;
    while (end - at >= 12 && at < end) {
        const uint32_t *header = (const uint32_t *) (file + at);
        uint64_t name_start = at + 12, desc_start = name_start + ((header[0] + 3UL) & ~3UL);
        uint64_t next = desc_start + ((header[1] + 3UL) & ~3UL);
        if (next > end) {
            return;
        }
        if (header[2] == VECTOR_TABLE_NOTE && header[0] == 9 && header[1] == 8
            && memcmp(file + name_start, "vioplane", 8) == 0) {
            memcpy(&vector_table_gva, file + desc_start, 8);
        }
        at = next;
    }
}

static void load_elf(const char *path, uint64_t *entry) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        die(path);
    }
    uint8_t *file = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED) {
        die("mmap image");
    }
    Elf64_Ehdr *eh = (Elf64_Ehdr *) file;
    if ((size_t) st.st_size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0
        || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phoff + (uint64_t) eh->e_phnum * sizeof(Elf64_Phdr)
        > (uint64_t) st.st_size) {
        fprintf(stderr, "minivmm: %s is not an ELF64 image\n", path);
        exit(102);
    }
    for (int i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr *ph = (Elf64_Phdr *) (file + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_type == PT_NOTE && ph->p_offset + ph->p_filesz <= (uint64_t) st.st_size) {
            read_notes(file, ph->p_offset, ph->p_filesz);
        }
        if (ph->p_type != PT_LOAD) {
            continue;
        }
        if (ph->p_paddr < 0x100000 || ph->p_memsz > ram_bytes || ph->p_paddr > ram_bytes - ph->p_memsz
            || ph->p_filesz > ph->p_memsz || ph->p_offset + ph->p_filesz > (uint64_t) st.st_size) {
            fprintf(stderr, "minivmm: segment %d outside RAM or file\n", i);
            exit(102);
        }
        memcpy(ram + ph->p_paddr, file + ph->p_offset, ph->p_filesz);
        memset(ram + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
    }
    *entry = eh->e_entry;
    munmap(file, st.st_size);
    close(fd);
}

/* vioplane's BootTables.writeIdt: 256 present DPL-3 64-bit interrupt gates through the guest's own code selector. */
static void write_idt(uint16_t code_selector) {
    if (vector_table_gva == 0 || vector_table_gva > ram_bytes - 256 * 8) {
        return;
    }
    uint64_t *idt = (uint64_t *) (ram + 0x2000);
    for (int vector = 0; vector < 256; vector++) {
        uint64_t offset;
        memcpy(&offset, ram + vector_table_gva + 8UL * vector, 8);
        idt[2 * vector] = (offset & 0xFFFF) | ((uint64_t) (code_selector & ~3) << 16) | (0xEEUL << 40)
                          | (((offset >> 16) & 0xFFFF) << 48);
        idt[2 * vector + 1] = offset >> 32;
    }
}

/* The fixed set-up of vioplane's BootTables.java. */
static void boot_tables(void) {
    uint64_t *gdt = (uint64_t *) (ram + 0x1000);
    gdt[0x10 / 8] = 0x00AF9B000000FFFFUL;
    gdt[0x18 / 8] = 0x00CF93000000FFFFUL;
    gdt[0x28 / 8] = 0x00CFF3000000FFFFUL;
    gdt[0x30 / 8] = 0x00AFFB000000FFFFUL;
    const uint64_t tss = 0x3000, limit = 0x67;
    gdt[0x40 / 8] = (limit & 0xFFFF) | ((tss & 0xFFFFFF) << 16) | (0x8BUL << 40) | (((limit >> 16) & 0xF) << 48)
                    | (((tss >> 24) & 0xFF) << 56);
    gdt[0x48 / 8] = tss >> 32;
    *(uint64_t *) (ram + tss + 4) = 0x70000;
    uint64_t *pml4 = (uint64_t *) (ram + 0x8000), *pdpt = (uint64_t *) (ram + 0x9000);
    uint64_t *pd = (uint64_t *) (ram + 0xA000);
    pml4[0] = 0x9000 | 7;
    for (int i = 0; i < 4; i++) {
        pdpt[i] = (0xA000 + 0x1000UL * i) | 7;
    }
    for (uint64_t gpa = 0, i = 0; gpa < (4UL << 30); gpa += 2UL << 20, i++) {
        pd[i] = gpa | 7 | 0x80 | (gpa >= (3UL << 30) ? 0x18 : 0);
    }
}

static void set_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, int code, uint64_t base,
                        uint32_t limit, int system) {
    memset(s, 0, sizeof *s);
    s->dpl = selector & 3;
    s->base = base;
    s->limit = limit;
    s->selector = selector;
    s->type = type;
    s->present = 1;
    s->s = !system;
    s->l = code;
    s->db = !code && !system;
    s->g = !system;
}

static void console_bytes(const uint8_t *bytes, uint32_t length) {
    static char line[4097];
    static size_t used;
    for (uint32_t i = 0; i < length; i++) {
        char c = (char) bytes[i];
        if (c == '\n' || used == sizeof line - 1) {
            line[used] = 0;
            printf("console: %s\n", line);
            used = 0;
            if (c == '\n') {
                continue;
            }
        }
        line[used++] = (c == '\t' || (c >= 0x20 && c < 0x7F)) ? c : '?';
    }
}

static uint64_t buffer_gpa;
static int exit_requested, exit_status;

static void debug_write(uint64_t offset, uint32_t size, uint64_t value) {
    if (offset == 0x00 && size == 1) {
        uint8_t b = (uint8_t) value;
        console_bytes(&b, 1);
    } else if (offset == 0x08 && size == 8) {
        buffer_gpa = value;
    } else if ((offset == 0x10 || offset == 0x18) && size == 4) {
        uint32_t length = (uint32_t) value;
        if (length > 4096 || buffer_gpa > ram_bytes || length > ram_bytes - buffer_gpa) {
            return;
        }
        if (offset == 0x10) {
            console_bytes(ram + buffer_gpa, length);
        } else {
            printf("result: %.*s\n", (int) length, (const char *) (ram + buffer_gpa));
        }
    } else if (offset == 0x20 && size == 4) {
        exit_status = (int) value;
        exit_requested = 1;
    }
}

static uint64_t begin_ns, begin_exits, begin_mmio_exits, begin_vmm;

static void bench_write(uint64_t offset, uint64_t value) {
    if (offset == 0x10) {
        last_loop_value = value;
    } else if (offset == 0x08) {
        begin_vmm = vmm_mmio_exits;
        begin_exits = kvm_stat(stat_exits);
        begin_mmio_exits = kvm_stat(stat_mmio_exits);
        begin_ns = now_ns();
    } else if (offset == 0x0C) {
        uint64_t ns = now_ns() - begin_ns;
        printf("phase=%s round=%lu writes=%u ns=%lu kvm_exits=%lu kvm_mmio_exits=%lu vmm_mmio_exits=%lu\n",
               (value & 0xFF) == 0 ? "mmio" : (value & 0xFF) == 1 ? "ioeventfd" : "irqfd", (unsigned long) (value >> 8), writes,
               (unsigned long) ns, (unsigned long) (kvm_stat(stat_exits) - begin_exits),
               (unsigned long) (kvm_stat(stat_mmio_exits) - begin_mmio_exits),
               (unsigned long) (vmm_mmio_exits - begin_vmm));
    }
}

static uint64_t bench_read(uint64_t offset) {
    return offset == 0x00 ? rounds : offset == 0x04 ? writes : offset == 0x14 ? IRQ_VECTOR : ~0UL;
}

/* The ring vioplane's KvmBackend picks (Kvm.isPvm): 3 on kvm_pvm, 0 where VT-x or SVM runs every ring. */
static int guest_ring(void) {
    struct stat st;
    int pvm = stat("/sys/module/kvm_pvm", &st) == 0;
    int hardware = stat("/sys/module/kvm_intel", &st) == 0 || stat("/sys/module/kvm_amd", &st) == 0;
    return pvm && !hardware ? 3 : 0;
}

static int kick_fd, interrupt_fd;

/* The notifier thread: each kick the guest writes through the ioeventfd raises the MSI through the irqfd. */
static void *notifier(void *unused) {
    (void) unused;
    uint64_t count, one = 1;
    for (;;) {
        if (read(kick_fd, &count, 8) != 8) {
            if (errno == EINTR) {
                continue;
            }
            die("kick read");
        }
        if (write(interrupt_fd, &one, 8) != 8) {
            die("irqfd write");
        }
    }
    return NULL;
}

static void start_irqfd(int vm) {
    struct {
        struct kvm_irq_routing header;
        struct kvm_irq_routing_entry entries[41];
    } routing;
    memset(&routing, 0, sizeof routing);
    uint32_t n = 0;
    for (uint32_t gsi = 0; gsi < 24; gsi++) {
        if (gsi < 16) {
            routing.entries[n].gsi = gsi;
            routing.entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
            routing.entries[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
            routing.entries[n++].u.irqchip.pin = gsi % 8;
        }
        routing.entries[n].gsi = gsi;
        routing.entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
        routing.entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
        routing.entries[n++].u.irqchip.pin = gsi;
    }
    routing.entries[n].gsi = IRQ_GSI;
    routing.entries[n].type = KVM_IRQ_ROUTING_MSI;
    routing.entries[n].u.msi.address_lo = 0xFEE00000;
    routing.entries[n++].u.msi.data = IRQ_VECTOR;
    routing.header.nr = n;
    xioctl(vm, KVM_SET_GSI_ROUTING, &routing, "KVM_SET_GSI_ROUTING");
    interrupt_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct kvm_irqfd irqfd = {.fd = (uint32_t) interrupt_fd, .gsi = IRQ_GSI};
    xioctl(vm, KVM_IRQFD, &irqfd, "KVM_IRQFD");
    kick_fd = eventfd(0, EFD_CLOEXEC);
    struct kvm_ioeventfd kick = {.addr = KICK_GPA, .len = 4, .fd = kick_fd};
    xioctl(vm, KVM_IOEVENTFD, &kick, "KVM_IOEVENTFD kick");
    pthread_t thread;
    if (pthread_create(&thread, NULL, notifier, NULL) != 0) {
        die("pthread_create");
    }
    pthread_detach(thread);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: minivmm IMAGE.elf ROUNDS WRITES [RAM_MIB]\n");
        return 100;
    }
    rounds = (uint32_t) strtoul(argv[2], NULL, 0);
    writes = (uint32_t) strtoul(argv[3], NULL, 0);
    ram_bytes = (argc > 4 ? strtoul(argv[4], NULL, 0) : 64) << 20;
    setvbuf(stdout, NULL, _IOLBF, 0);

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        die("/dev/kvm");
    }
    int vm = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
    ioctl(vm, KVM_SET_TSS_ADDR, 0xFFFBD000UL);
    int memfd = memfd_create("minivmm-ram", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, (off_t) ram_bytes) < 0) {
        die("memfd");
    }
    ram = mmap(NULL, ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (ram == MAP_FAILED) {
        die("mmap RAM");
    }
    madvise(ram, ram_bytes, MADV_HUGEPAGE);
    if (madvise(ram, ram_bytes, 23 /* MADV_POPULATE_WRITE */) < 0) {
        for (uint64_t o = 0; o < ram_bytes; o += PAGE_BYTES) {
            ram[o] = 0;
        }
    }
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = ram_bytes, .userspace_addr = (uint64_t) ram};
    xioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
    if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) > 0) {
        xioctl(vm, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
    }
    int vcpu = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
    int run_bytes = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, run_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) {
        die("mmap kvm_run");
    }
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + 256 * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = 256;
    xioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid, "KVM_GET_SUPPORTED_CPUID");
    xioctl(vcpu, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
    open_stats(vcpu);

    int doorbell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct kvm_ioeventfd ioeventfd = {.addr = IOEVENTFD_GPA, .len = 4, .fd = doorbell};
    xioctl(vm, KVM_IOEVENTFD, &ioeventfd, "KVM_IOEVENTFD");

    start_irqfd(vm);

    uint64_t entry;
    load_elf(argv[1], &entry);
    boot_tables();
    const int ring = guest_ring();
    const uint16_t code_selector = ring == 3 ? 0x33 : 0x10, data_selector = ring == 3 ? 0x2B : 0x18;
    write_idt(code_selector);
    struct kvm_sregs sregs;
    xioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    set_segment(&sregs.cs, code_selector, 0xB, 1, 0, 0xFFFFFFFF, 0);
    set_segment(&sregs.ds, data_selector, 0x3, 0, 0, 0xFFFFFFFF, 0);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    set_segment(&sregs.tr, 0x40, 0xB, 0, 0x3000, 0x67, 1);
    set_segment(&sregs.ldt, 0, 0x2, 0, 0, 0xFFFF, 1);
    sregs.gdt.base = 0x1000;
    sregs.gdt.limit = 0x40 + 16 - 1;
    sregs.idt.base = 0x2000;
    sregs.idt.limit = 256 * 16 - 1;
    sregs.cr0 = 0x80050033UL;
    sregs.cr3 = 0x8000;
    sregs.cr4 = 0x620;
    sregs.efer = 0xD01;
    xioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    const uint64_t rflags = 2 | (ring == 3 && vector_table_gva != 0 ? 0x200 : 0);
    struct kvm_regs regs = {.rip = entry, .rsp = 0xF0000, .rflags = rflags, .rdi = ram_bytes};
    xioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");

    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("KVM_RUN");
        }
        if (run->exit_reason != KVM_EXIT_MMIO) {
            fprintf(stderr, "minivmm: exit reason %u (hardware reason 0x%llx)\n", run->exit_reason,
                    (unsigned long long) run->fail_entry.hardware_entry_failure_reason);
            return 103;
        }
        vmm_mmio_exits++;
        uint64_t gpa = run->mmio.phys_addr;
        uint32_t size = run->mmio.len;
        uint64_t value = 0;
        if (run->mmio.is_write) {
            memcpy(&value, run->mmio.data, size <= 8 ? size : 8);
            if (gpa >= BENCH_GPA && gpa - BENCH_GPA < PAGE_BYTES && size == 4) {
                bench_write(gpa - BENCH_GPA, value);
            } else if (gpa >= DEBUG_GPA && gpa - DEBUG_GPA < PAGE_BYTES) {
                debug_write(gpa - DEBUG_GPA, size, value);
                if (exit_requested) {
                    printf("exit status %d, last loop value %lu\n", exit_status, (unsigned long) last_loop_value);
                    return exit_status;
                }
            } else {
                fprintf(stderr, "minivmm: unclaimed MMIO write at 0x%lx\n", (unsigned long) gpa);
                return 104;
            }
        } else {
            if (gpa >= BENCH_GPA && gpa - BENCH_GPA < PAGE_BYTES) {
                value = bench_read(gpa - BENCH_GPA);
            } else if (gpa == DEBUG_GPA + 0x28) {
                value = 0x42445056;
            } else {
                value = ~0UL;
            }
            memcpy(run->mmio.data, &value, size <= 8 ? size : 8);
        }
    }
}
