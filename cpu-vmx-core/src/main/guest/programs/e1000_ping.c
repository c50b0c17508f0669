/*
 * A bare-metal driver for the Intel 82540EM (PCI 8086:100E), written from Intel's PCI/PCI-X Family of Gigabit
 * Ethernet Controllers Software Developer's Manual (8254x): it resets the device, reads the MAC from the EEPROM
 * through EERD (5.3.1, 13.4.4), sets the link up (CTRL.SLU, 14.5), and runs legacy receive and transmit rings
 * (3.2 and 3.3; 14.4 and 14.5 for the set-up order) without interrupts. On the wire it answers ARP for 10.61.0.2
 * and ICMP echo requests, after announcing itself with three gratuitous ARPs; it stops after answering
 * PINGS_TO_ANSWER echo requests and reports what it sent and received, with the device's own GPTC/GPRC and the
 * register accesses its rings needed (one TDT write per frame sent, one RDT write per frame received).
 *
 * The same image runs on QEMU's e1000 (PVH, TCG: the behavioural reference) and on vioplane's e1000.
 *
 * Built a second time as e1000_ping_irq (E1000_INTERRUPTS 1): the receive side then waits for the device's interrupt
 * (RXT0, 13.4.17-13.4.21) in hlt instead of polling, through the IOAPIC pin in the Interrupt Line register and the
 * local APIC; the handler reads ICR (which clears the causes and deasserts INTA#) and masks with IMC, and the main
 * loop unmasks with IMS once the ring is empty, as Linux's e1000 does around NAPI polling. Needs ring 0 and an
 * Interrupt Line of 16-23 (vioplane's machine); otherwise it polls as e1000_ping does.
 */
#include "../runtime/vioplane.h"

#ifndef E1000_INTERRUPTS
#define E1000_INTERRUPTS 0
#endif

#define ECAM_GPA 0xB0000000UL
#define BAR0_FALLBACK_GPA 0xE0000000UL

#define REG_CTRL 0x0000
#define REG_STATUS 0x0008
#define REG_EERD 0x0014
#define REG_ICR 0x00C0
#define REG_IMS 0x00D0
#define REG_IMC 0x00D8
#define REG_RCTL 0x0100
#define REG_TCTL 0x0400
#define REG_TIPG 0x0410
#define REG_RDBAL 0x2800
#define REG_RDBAH 0x2804
#define REG_RDLEN 0x2808
#define REG_RDH 0x2810
#define REG_RDT 0x2818
#define REG_TDBAL 0x3800
#define REG_TDBAH 0x3804
#define REG_TDLEN 0x3808
#define REG_TDH 0x3810
#define REG_TDT 0x3818
#define REG_GPRC 0x4074
#define REG_GPTC 0x4080
#define REG_MTA 0x5200
#define REG_RAL0 0x5400
#define REG_RAH0 0x5404

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU (1u << 6)
#define CTRL_RST (1u << 26)
#define STATUS_LU (1u << 1)
#define EERD_START 1u
#define EERD_DONE (1u << 4)
#define RCTL_EN (1u << 1)
#define RCTL_BAM (1u << 15)
#define RCTL_SECRC (1u << 26)
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define TX_CMD_EOP 0x01
#define TX_CMD_IFCS 0x02
#define TX_CMD_RS 0x08
#define DESC_DD 0x01
#define RX_EOP 0x02
#define ICR_RXT0 (1u << 7)

#define LAPIC_GPA 0xFEE00000UL
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_SVR_ENABLE (1u << 8)
#define IOAPIC_GPA 0xFEC00000UL
#define IOAPIC_WINDOW 0x10
#define IOAPIC_REDIRECTION 0x10
#define IOAPIC_LEVEL_TRIGGERED (1u << 15)
#define E1000_VECTOR 0x40
#define SPURIOUS_VECTOR 0xFF

#define RING_ENTRIES 32
#define BUFFER_BYTES 2048
#define RX_RING_GPA 0x400000UL
#define TX_RING_GPA 0x401000UL
#define RX_BUFFERS_GPA 0x410000UL
#define TX_BUFFERS_GPA 0x430000UL

#define GUEST_IP 0x0A3D0002u /* 10.61.0.2 */
#define PINGS_TO_ANSWER 5
#define SPIN_LIMIT 4000000000UL

struct rx_desc {
    volatile u64 buffer;
    volatile u16 length;
    volatile u16 checksum;
    volatile u8 status;
    volatile u8 errors;
    volatile u16 special;
};

struct tx_desc {
    volatile u64 buffer;
    volatile u16 length;
    volatile u8 cso;
    volatile u8 cmd;
    volatile u8 status;
    volatile u8 css;
    volatile u16 special;
};

static u64 bar0;
static u8 mac[6];
static u32 tx_next;
static u32 rx_next;
static u64 frames_sent;
static u64 frames_received;
static u64 arp_answered;
static u64 echo_answered;
/* Register accesses (each one a VM exit, or a message to QEMU's remote device) once the rings run. */
static u64 data_path_mmio;
static int counting_mmio;

static u32 reg_read(u32 offset) {
    data_path_mmio += (u64) counting_mmio;
    return vp_mmio_read32(bar0 + offset);
}

static void reg_write(u32 offset, u32 value) {
    data_path_mmio += (u64) counting_mmio;
    vp_mmio_write32(bar0 + offset, value);
}

static u64 config_gpa(u32 device, u32 reg) {
    return ECAM_GPA + ((u64) device << 15) + reg;
}

static int find_82540em(void) {
    for (u32 device = 0; device < 32; device++) {
        if (vp_mmio_read32(config_gpa(device, 0)) == 0x100E8086u) {
            return (int) device;
        }
    }
    return -1;
}

static u16 be16(const u8 *p) {
    return (u16) ((p[0] << 8) | p[1]);
}

static u32 be32(const u8 *p) {
    return ((u32) p[0] << 24) | ((u32) p[1] << 16) | ((u32) p[2] << 8) | p[3];
}

static void put16(u8 *p, u32 value) {
    p[0] = (u8) (value >> 8);
    p[1] = (u8) value;
}

static void put32(u8 *p, u32 value) {
    put16(p, value >> 16);
    put16(p + 2, value);
}

static void copy(u8 *to, const u8 *from, u32 bytes) {
    for (u32 i = 0; i < bytes; i++) {
        to[i] = from[i];
    }
}

/* RFC 1071: one's-complement sum of 16-bit words, folded and complemented. */
static u16 internet_checksum(const u8 *data, u32 bytes) {
    u64 sum = 0;
    for (u32 i = 0; i + 1 < bytes; i += 2) {
        sum += be16(data + i);
    }
    if (bytes & 1) {
        sum += (u32) data[bytes - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    return (u16) ~sum;
}

static u16 eeprom_word(u32 address) {
    reg_write(REG_EERD, (address << 8) | EERD_START);
    for (u64 spins = 0; spins < SPIN_LIMIT; spins++) {
        const u32 value = reg_read(REG_EERD);
        if (value & EERD_DONE) {
            return (u16) (value >> 16);
        }
    }
    vp_puts("e1000: EEPROM read timed out\n");
    vp_exit(3);
}

static int interrupts_on;
static volatile int interrupts_masked;
static volatile u64 interrupts_taken;

static void ioapic_write(u32 reg, u32 value) {
    vp_mmio_write32(IOAPIC_GPA, reg);
    vp_mmio_write32(IOAPIC_GPA + IOAPIC_WINDOW, value);
}

/* INTA#: reading ICR clears the causes, so the device deasserts the line before the EOI (level-triggered pin). */
static void on_e1000_interrupt(struct vp_frame *frame) {
    (void) frame;
    (void) reg_read(REG_ICR);
    interrupts_taken++;
    reg_write(REG_IMC, 0xFFFFFFFFu);
    interrupts_masked = 1;
    vp_mmio_write32(LAPIC_GPA + LAPIC_EOI, 0);
}

/* Routes the device's IOAPIC pin to E1000_VECTOR on APIC 0 and unmasks RXT0; 0 when interrupts cannot be used. */
static int set_up_interrupts(u32 device) {
    const u32 line = vp_mmio_read32(config_gpa(device, 0x3C)) & 0xFF;
    u16 code_selector;
    __asm__ volatile("mov %%cs, %0" : "=r"(code_selector));
    if (line < 16 || line > 23 || (code_selector & 3) != 0) {
        return 0;
    }
    vp_on_interrupt(E1000_VECTOR, on_e1000_interrupt);
    vp_mmio_write32(LAPIC_GPA + LAPIC_TPR, 0);
    vp_mmio_write32(LAPIC_GPA + LAPIC_SVR, LAPIC_SVR_ENABLE | SPURIOUS_VECTOR);
    ioapic_write(IOAPIC_REDIRECTION + 2 * line + 1, 0);
    ioapic_write(IOAPIC_REDIRECTION + 2 * line, E1000_VECTOR | IOAPIC_LEVEL_TRIGGERED);
    reg_write(REG_IMS, ICR_RXT0);
    return 1;
}

/*
 * Sleeps until the device interrupts, unless the descriptor is done; unmasks first if the handler masked. Interrupts
 * are enabled only in hlt (sti's one-instruction shadow covers it), so the handler never interrupts the main loop.
 */
static void wait_for_interrupt(const volatile u8 *status) {
    __asm__ volatile("cli" ::: "memory");
    if (!(*status & DESC_DD)) {
        if (interrupts_masked) {
            interrupts_masked = 0;
            reg_write(REG_IMS, ICR_RXT0);
        }
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
}

static int transmit(const u8 *frame, u32 bytes) {
    struct tx_desc *ring = (struct tx_desc *) TX_RING_GPA;
    struct tx_desc *desc = &ring[tx_next];
    u8 *buffer = (u8 *) (TX_BUFFERS_GPA + (u64) tx_next * BUFFER_BYTES);
    copy(buffer, frame, bytes);
    for (u32 i = bytes; i < 60; i++) {
        buffer[i] = 0;
    }
    desc->buffer = (u64) buffer;
    desc->length = (u16) (bytes < 60 ? 60 : bytes);
    desc->cso = 0;
    desc->css = 0;
    desc->special = 0;
    desc->status = 0;
    desc->cmd = TX_CMD_EOP | TX_CMD_IFCS | TX_CMD_RS;
    tx_next = (tx_next + 1) % RING_ENTRIES;
    __asm__ volatile("" ::: "memory");
    reg_write(REG_TDT, tx_next);
    for (u64 spins = 0; spins < SPIN_LIMIT; spins++) {
        if (desc->status & DESC_DD) {
            frames_sent++;
            return 1;
        }
    }
    vp_puts("e1000: transmit descriptor never done\n");
    return 0;
}

static void ethernet_header(u8 *frame, const u8 *destination, u16 type) {
    copy(frame, destination, 6);
    copy(frame + 6, mac, 6);
    put16(frame + 12, type);
}

static void send_arp(u16 operation, const u8 *target_mac, u32 target_ip) {
    static const u8 broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    u8 frame[42];
    ethernet_header(frame, operation == 1 ? broadcast : target_mac, 0x0806);
    u8 *arp = frame + 14;
    put16(arp, 1);
    put16(arp + 2, 0x0800);
    arp[4] = 6;
    arp[5] = 4;
    put16(arp + 6, operation);
    copy(arp + 8, mac, 6);
    put32(arp + 14, GUEST_IP);
    copy(arp + 18, target_mac, 6);
    put32(arp + 24, target_ip);
    transmit(frame, sizeof frame);
}

static void answer_arp(const u8 *frame, u32 bytes) {
    const u8 *arp = frame + 14;
    if (bytes < 42 || be16(arp) != 1 || be16(arp + 2) != 0x0800 || be16(arp + 6) != 1
            || be32(arp + 24) != GUEST_IP) {
        return;
    }
    send_arp(2, arp + 8, be32(arp + 14));
    arp_answered++;
}

static void answer_echo(const u8 *frame, u32 bytes) {
    const u8 *ip = frame + 14;
    const u32 header_bytes = (ip[0] & 0x0F) * 4u;
    if (bytes < 14 + 20 || (ip[0] >> 4) != 4 || header_bytes < 20 || ip[9] != 1 || be32(ip + 16) != GUEST_IP) {
        return;
    }
    const u32 total = be16(ip + 2);
    if (total < header_bytes + 8 || 14 + total > bytes || total > 1500) {
        return;
    }
    const u8 *icmp = ip + header_bytes;
    if (icmp[0] != 8 || icmp[1] != 0) {
        return;
    }
    static u8 reply[1514];
    ethernet_header(reply, frame + 6, 0x0800);
    u8 *reply_ip = reply + 14;
    copy(reply_ip, ip, total);
    copy(reply_ip + 12, ip + 16, 4);
    copy(reply_ip + 16, ip + 12, 4);
    reply_ip[8] = 64;
    put16(reply_ip + 10, 0);
    put16(reply_ip + 10, internet_checksum(reply_ip, header_bytes));
    u8 *reply_icmp = reply_ip + header_bytes;
    reply_icmp[0] = 0;
    put16(reply_icmp + 2, 0);
    put16(reply_icmp + 2, internet_checksum(reply_icmp, total - header_bytes));
    if (transmit(reply, 14 + total)) {
        echo_answered++;
    }
}

static void set_up_rings(void) {
    struct rx_desc *rx = (struct rx_desc *) RX_RING_GPA;
    for (u32 i = 0; i < RING_ENTRIES; i++) {
        rx[i].buffer = RX_BUFFERS_GPA + (u64) i * BUFFER_BYTES;
        rx[i].status = 0;
    }
    reg_write(REG_RDBAL, (u32) RX_RING_GPA);
    reg_write(REG_RDBAH, 0);
    reg_write(REG_RDLEN, RING_ENTRIES * sizeof(struct rx_desc));
    reg_write(REG_RDH, 0);
    reg_write(REG_RDT, RING_ENTRIES - 1);
    reg_write(REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);

    struct tx_desc *tx = (struct tx_desc *) TX_RING_GPA;
    for (u32 i = 0; i < RING_ENTRIES; i++) {
        tx[i].buffer = 0;
        tx[i].cmd = 0;
        tx[i].status = DESC_DD;
    }
    reg_write(REG_TDBAL, (u32) TX_RING_GPA);
    reg_write(REG_TDBAH, 0);
    reg_write(REG_TDLEN, RING_ENTRIES * sizeof(struct tx_desc));
    reg_write(REG_TDH, 0);
    reg_write(REG_TDT, 0);
    reg_write(REG_TIPG, 10u | (8u << 10) | (6u << 20));
    reg_write(REG_TCTL, TCTL_EN | TCTL_PSP | (0x0Fu << 4) | (0x40u << 12));
}

static void put_mac(void) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 6; i++) {
        vp_putc(hex[mac[i] >> 4]);
        vp_putc(hex[mac[i] & 15]);
        if (i < 5) {
            vp_putc(':');
        }
    }
}

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    const int device = find_82540em();
    if (device < 0) {
        vp_result("e1000 absent");
        return 2;
    }
    u32 bar = vp_mmio_read32(config_gpa((u32) device, 0x10));
    if ((bar & ~0xFu) == 0) {
        vp_mmio_write32(config_gpa((u32) device, 0x10), (u32) BAR0_FALLBACK_GPA);
        bar = vp_mmio_read32(config_gpa((u32) device, 0x10));
    }
    bar0 = bar & ~0xFu;
    const u32 command = vp_mmio_read32(config_gpa((u32) device, 0x04));
    vp_mmio_write32(config_gpa((u32) device, 0x04), (command & 0xFFFF) | 0x6u);

    reg_write(REG_IMC, 0xFFFFFFFFu);
    reg_write(REG_CTRL, reg_read(REG_CTRL) | CTRL_RST);
    for (u64 spins = 0; (reg_read(REG_CTRL) & CTRL_RST) && spins < SPIN_LIMIT; spins++) {
    }
    reg_write(REG_IMC, 0xFFFFFFFFu);

    for (u32 word = 0; word < 3; word++) {
        const u16 value = eeprom_word(word);
        mac[2 * word] = (u8) value;
        mac[2 * word + 1] = (u8) (value >> 8);
    }
    reg_write(REG_RAL0, mac[0] | ((u32) mac[1] << 8) | ((u32) mac[2] << 16) | ((u32) mac[3] << 24));
    reg_write(REG_RAH0, mac[4] | ((u32) mac[5] << 8) | (1u << 31));
    for (u32 i = 0; i < 128; i++) {
        reg_write(REG_MTA + 4 * i, 0);
    }
    reg_write(REG_CTRL, (reg_read(REG_CTRL) | CTRL_SLU | CTRL_ASDE) & ~(1u << 31));
    u64 spins = 0;
    while (!(reg_read(REG_STATUS) & STATUS_LU) && spins < SPIN_LIMIT) {
        spins++;
    }
    const int link = (reg_read(REG_STATUS) & STATUS_LU) != 0;
    set_up_rings();
    reg_read(REG_GPTC);
    reg_read(REG_GPRC);

    vp_puts("e1000 at 00:");
    vp_put_u64((u64) device);
    vp_puts(".0 bar0 ");
    vp_put_hex(bar0);
    vp_puts(" mac ");
    put_mac();
    vp_puts(link ? " link up\n" : " link down\n");

    if (E1000_INTERRUPTS) {
        interrupts_on = set_up_interrupts((u32) device);
        vp_puts(interrupts_on ? "e1000 interrupts: RXT0 on vector 64\n" : "e1000 interrupts: unavailable, polling\n");
    }
    static const u8 nobody[6] = {0, 0, 0, 0, 0, 0};
    counting_mmio = 1;
    for (int i = 0; i < 3; i++) {
        send_arp(1, nobody, GUEST_IP);
    }
    vp_puts("e1000 ready: answering ARP and ping for 10.61.0.2\n");

    struct rx_desc *rx = (struct rx_desc *) RX_RING_GPA;
    const u64 started = vp_rdtsc();
    while (echo_answered < PINGS_TO_ANSWER) {
        struct rx_desc *desc = &rx[rx_next];
        if (!(desc->status & DESC_DD)) {
            if (vp_rdtsc() - started > 600000000000UL) {
                vp_puts("e1000: gave up waiting for pings\n");
                break;
            }
            if (interrupts_on) {
                wait_for_interrupt(&desc->status);
            }
            continue;
        }
        __asm__ volatile("" ::: "memory");
        const u32 bytes = desc->length;
        const u8 *frame = (const u8 *) (RX_BUFFERS_GPA + (u64) rx_next * BUFFER_BYTES);
        if ((desc->status & RX_EOP) && desc->errors == 0 && bytes >= 14 && bytes <= BUFFER_BYTES) {
            frames_received++;
            const u16 type = be16(frame + 12);
            if (type == 0x0806) {
                answer_arp(frame, bytes);
            } else if (type == 0x0800) {
                answer_echo(frame, bytes);
            }
        }
        desc->status = 0;
        reg_write(REG_RDT, rx_next);
        rx_next = (rx_next + 1) % RING_ENTRIES;
    }

    counting_mmio = 0;
    const u32 good_transmitted = reg_read(REG_GPTC);
    const u32 good_received = reg_read(REG_GPRC);
    char line[200];
    char *end = vp_append(line, "e1000 link=");
    end = vp_append_u64(end, (u64) link);
    end = vp_append(end, " tx=");
    end = vp_append_u64(end, frames_sent);
    end = vp_append(end, " rx=");
    end = vp_append_u64(end, frames_received);
    end = vp_append(end, " arp=");
    end = vp_append_u64(end, arp_answered);
    end = vp_append(end, " echo=");
    end = vp_append_u64(end, echo_answered);
    end = vp_append(end, " gptc=");
    end = vp_append_u64(end, good_transmitted);
    end = vp_append(end, " gprc=");
    end = vp_append_u64(end, good_received);
    end = vp_append(end, " mmio=");
    end = vp_append_u64(end, data_path_mmio);
    if (E1000_INTERRUPTS) {
        end = vp_append(end, " irq=");
        vp_append_u64(end, interrupts_taken);
    }
    vp_result(line);
    return echo_answered == PINGS_TO_ANSWER ? 0 : 1;
}
