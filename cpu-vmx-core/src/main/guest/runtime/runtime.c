/* The vioplane guest runtime. Register layout of the debug device: DebugDevice.java. */
#include "vioplane.h"

#define DEBUG_DEVICE_GPA 0xD0000000UL
#define DEBUG_CONSOLE_BYTE 0x00
#define DEBUG_BUFFER_GPA 0x08
#define DEBUG_CONSOLE_WRITE 0x10
#define DEBUG_RESULT_WRITE 0x18
#define DEBUG_EXIT 0x20
#define QEMU_DEBUGCON_PORT 0xe9
#define QEMU_DEBUG_EXIT_PORT 0xf4

volatile u32 vp_platform;

static void outb(u16 port, u8 value) {
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static void outl(u16 port, u32 value) {
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static u64 length(const char *text) {
    u64 n = 0;
    while (text[n] != 0) {
        n++;
    }
    return n;
}

static void debug_buffer(u64 reg, const char *text) {
    *(volatile u64 *) (DEBUG_DEVICE_GPA + DEBUG_BUFFER_GPA) = (u64) text;
    *(volatile u32 *) (DEBUG_DEVICE_GPA + reg) = (u32) length(text);
}

void vp_putc(char c) {
    if (vp_platform) {
        outb(QEMU_DEBUGCON_PORT, (u8) c);
    } else {
        *(volatile u8 *) (DEBUG_DEVICE_GPA + DEBUG_CONSOLE_BYTE) = (u8) c;
    }
}

void vp_puts(const char *text) {
    if (vp_platform) {
        while (*text) {
            vp_putc(*text++);
        }
    } else {
        debug_buffer(DEBUG_CONSOLE_WRITE, text);
    }
}

char *vp_append(char *out, const char *text) {
    while (*text) {
        *out++ = *text++;
    }
    *out = 0;
    return out;
}

char *vp_append_u64(char *out, u64 value) {
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) {
        *out++ = digits[--n];
    }
    *out = 0;
    return out;
}

void vp_put_u64(u64 value) {
    char text[24];
    vp_append_u64(text, value);
    vp_puts(text);
}

void vp_put_hex(u64 value) {
    char text[19] = "0x";
    for (int i = 0; i < 16; i++) {
        const u64 nibble = (value >> (60 - 4 * i)) & 0xf;
        text[2 + i] = (char) (nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
    }
    text[18] = 0;
    vp_puts(text);
}

void vp_result(const char *line) {
    if (vp_platform) {
        vp_puts("RESULT: ");
        vp_puts(line);
        vp_putc('\n');
    } else {
        debug_buffer(DEBUG_RESULT_WRITE, line);
    }
}

void vp_exit(int status) {
    if (vp_platform) {
        outl(QEMU_DEBUG_EXIT_PORT, (u32) status);
    } else {
        *(volatile u32 *) (DEBUG_DEVICE_GPA + DEBUG_EXIT) = (u32) status;
    }
    for (;;) {
        __asm__ volatile("pause");
    }
}

static vp_handler handlers[256];
extern const u64 vp_vector_stubs[256];

void vp_on_interrupt(u32 vector, vp_handler handler) {
    handlers[vector & 0xff] = handler;
}

void vp_dispatch_interrupt(struct vp_frame *frame) {
    const u64 vector = frame->vector & 0xff;
    if (handlers[vector]) {
        handlers[vector](frame);
        return;
    }
    vp_puts("unhandled vector ");
    vp_put_u64(vector);
    vp_puts(" at rip ");
    vp_put_hex(frame->rip);
    vp_putc('\n');
    vp_exit(100 + (int) vector);
}

/* The PVH path runs in ring 0 with its own GDT (code selector 0x08): it builds the IDT vioplane's VMM builds. */
static u64 pvh_idt[512] __attribute__((aligned(16)));

static void install_idt_ring0(void) {
    for (u32 vector = 0; vector < 256; vector++) {
        const u64 offset = vp_vector_stubs[vector];
        const u64 type_dpl_present = 0xEEUL; /* present, DPL 3, 64-bit interrupt gate */
        pvh_idt[2 * vector] = (offset & 0xffff) | (0x08UL << 16) | (type_dpl_present << 40)
                | ((offset >> 16) & 0xffff) << 48;
        pvh_idt[2 * vector + 1] = offset >> 32;
    }
    struct __attribute__((packed)) {
        u16 limit;
        u64 base;
    } pointer = {sizeof(pvh_idt) - 1, (u64) pvh_idt};
    __asm__ volatile("lidt %0" : : "m"(pointer));
}

void vp_start(u64 ram_bytes) {
    if (vp_platform) {
        install_idt_ring0();
    }
    vp_exit(vp_main(ram_bytes));
}
