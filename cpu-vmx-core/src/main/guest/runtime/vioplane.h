/* The vioplane guest runtime: console, result line, exit status, timing. Freestanding, no libc. */
#ifndef VIOPLANE_GUEST_H
#define VIOPLANE_GUEST_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

/* 0: under vioplane (debug device over MMIO); 1: under a PVH loader such as QEMU (ports 0xe9 and 0xf4). */
extern volatile u32 vp_platform;

/* Each guest program defines this; its return value is the exit status. ram_bytes is 0 under PVH. */
int vp_main(u64 ram_bytes);

void vp_putc(char c);
void vp_puts(const char *text);
void vp_put_u64(u64 value);
void vp_put_hex(u64 value);
/* Reports the program's result line (vioplane returns it to the caller; under QEMU it is printed as
   "RESULT: <line>"). */
void vp_result(const char *line);
__attribute__((noreturn)) void vp_exit(int status);

static inline u64 vp_rdtsc(void) {
    u32 low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((u64) high << 32) | low;
}

static inline void vp_mmio_write32(u64 gpa, u32 value) {
    *(volatile u32 *) gpa = value;
}

static inline u32 vp_mmio_read32(u64 gpa) {
    return *(volatile u32 *) gpa;
}

/* What an interrupt or exception handler sees (interrupts.S pushes it; SDM Vol. 3, 6.14.2 64-bit frame). */
struct vp_frame {
    u64 r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax, rbx;
    u64 vector, error_code;
    u64 rip, cs, rflags, rsp, ss;
};

typedef void (*vp_handler)(struct vp_frame *frame);

/* Installs handler for vector (0-255); an exception without a handler ends the program with status 100+vector. */
void vp_on_interrupt(u32 vector, vp_handler handler);

/* Formats into a caller buffer: "text" + decimal value; returns the end. */
char *vp_append(char *out, const char *text);
char *vp_append_u64(char *out, u64 value);

#endif
