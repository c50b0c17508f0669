/*
 * Finds the platform's VT-d unit the way an operating system does: scans the BIOS area 0xE0000-0xFFFFF for the
 * ACPI RSDP on a 16-byte boundary (ACPI 6.5 section 5.2.5.1), follows it to the XSDT (section 5.2.8; revision 2,
 * what vioplane writes) or the RSDT (section 5.2.7; revision 0, what QEMU's x86 tables use), finds the DMAR table
 * (VT-d 3.x section 8.1) and its first DRHD (section 8.3), then reads the unit's VER, CAP and ECAP registers at the
 * DRHD's register base (sections 11.4.1-11.4.3). Every checksum and length is checked before a field is used.
 * Under vioplane the machine needs --device iommu; under QEMU, q35 with -device intel-iommu.
 */
#include "../runtime/vioplane.h"

#define BIOS_AREA_GPA 0xE0000UL
#define BIOS_AREA_END 0x100000UL
#define HEADER_BYTES 36u
#define DMAR_FIXED_BYTES 48u
#define DRHD_TYPE 0u
#define MAX_TABLE_BYTES 0x10000u

static u8 byte_at(u64 gpa) {
    return *(volatile u8 *) gpa;
}

static u16 u16_at(u64 gpa) {
    return (u16) (byte_at(gpa) | (u16) byte_at(gpa + 1) << 8);
}

static u32 u32_at(u64 gpa) {
    return (u32) u16_at(gpa) | (u32) u16_at(gpa + 2) << 16;
}

static u64 u64_at(u64 gpa) {
    return (u64) u32_at(gpa) | (u64) u32_at(gpa + 4) << 32;
}

static int matches(u64 gpa, const char *text) {
    for (u32 i = 0; text[i]; i++) {
        if (byte_at(gpa + i) != (u8) text[i]) {
            return 0;
        }
    }
    return 1;
}

static int sums_to_zero(u64 gpa, u32 length) {
    u8 sum = 0;
    for (u32 i = 0; i < length; i++) {
        sum = (u8) (sum + byte_at(gpa + i));
    }
    return sum == 0;
}

static u64 find_rsdp(void) {
    for (u64 gpa = BIOS_AREA_GPA; gpa + 36 <= BIOS_AREA_END; gpa += 16) {
        if (matches(gpa, "RSD PTR ") && sums_to_zero(gpa, 20)) {
            return gpa;
        }
    }
    return 0;
}

/* A table at gpa with this signature, a sane length and a good checksum. */
static int table_ok(u64 gpa, const char *signature) {
    if (gpa == 0 || gpa >= (4UL << 30) || !matches(gpa, signature)) {
        return 0;
    }
    const u32 length = u32_at(gpa + 4);
    return length >= HEADER_BYTES && length <= MAX_TABLE_BYTES && sums_to_zero(gpa, length);
}

static char *append_hex(char *out, u64 value) {
    out = vp_append(out, "0x");
    int shift = 60;
    while (shift > 0 && ((value >> shift) & 0xf) == 0) {
        shift -= 4;
    }
    for (; shift >= 0; shift -= 4) {
        const u64 nibble = (value >> shift) & 0xf;
        *out++ = (char) (nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
    }
    *out = 0;
    return out;
}

static int fail(const char *why) {
    char line[96];
    vp_append(vp_append(line, "iommu none: "), why);
    vp_result(line);
    return 1;
}

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    const u64 rsdp = find_rsdp();
    if (rsdp == 0) {
        return fail("no RSDP in 0xE0000-0xFFFFF");
    }
    vp_puts("rsdp at ");
    vp_put_hex(rsdp);
    vp_putc('\n');
    /* Revision 2 and up: the XSDT (64-bit entries); revision 0 (ACPI 1.0, what QEMU's x86 firmware tables use):
       the RSDT (32-bit entries). */
    u64 root;
    u32 entry_bytes;
    if (byte_at(rsdp + 15) >= 2) {
        if (u32_at(rsdp + 20) < 36 || u32_at(rsdp + 20) > 1024 || !sums_to_zero(rsdp, u32_at(rsdp + 20))) {
            return fail("bad extended RSDP checksum or length");
        }
        root = u64_at(rsdp + 24);
        entry_bytes = 8;
        if (!table_ok(root, "XSDT")) {
            return fail("bad XSDT");
        }
    } else {
        root = u32_at(rsdp + 16);
        entry_bytes = 4;
        if (!table_ok(root, "RSDT")) {
            return fail("bad RSDT");
        }
    }
    vp_puts(entry_bytes == 8 ? "xsdt at " : "rsdt at ");
    vp_put_hex(root);
    vp_putc('\n');
    u64 dmar = 0;
    const u32 entries = (u32_at(root + 4) - HEADER_BYTES) / entry_bytes;
    for (u32 i = 0; i < entries && dmar == 0; i++) {
        const u64 entry = root + HEADER_BYTES + entry_bytes * i;
        const u64 table = entry_bytes == 8 ? u64_at(entry) : u32_at(entry);
        if (table_ok(table, "DMAR")) {
            dmar = table;
        }
    }
    if (dmar == 0) {
        return fail("no DMAR table in the root table");
    }
    const u32 dmar_length = u32_at(dmar + 4);
    const u32 haw = byte_at(dmar + 36) + 1u;
    const u32 dmar_flags = byte_at(dmar + 37);
    vp_puts("dmar at ");
    vp_put_hex(dmar);
    vp_puts(" length ");
    vp_put_u64(dmar_length);
    vp_putc('\n');
    u64 base = 0;
    u32 drhd_flags = 0;
    u32 segment = 0;
    for (u32 offset = DMAR_FIXED_BYTES; offset + 4 <= dmar_length;) {
        const u32 type = u16_at(dmar + offset);
        const u32 length = u16_at(dmar + offset + 2);
        if (length < 4 || offset + length > dmar_length) {
            return fail("bad remapping structure length");
        }
        vp_puts("  structure type ");
        vp_put_u64(type);
        vp_puts(" length ");
        vp_put_u64(length);
        vp_putc('\n');
        if (type == DRHD_TYPE && base == 0 && length >= 16) {
            drhd_flags = byte_at(dmar + offset + 4);
            segment = u16_at(dmar + offset + 6);
            base = u64_at(dmar + offset + 8);
            /* Device scope entries (section 8.3.1): type, length, enumeration ID, start bus, path. */
            for (u32 scope = 16; scope + 6 <= length;) {
                const u32 scope_length = byte_at(dmar + offset + scope + 1);
                if (scope_length < 6 || scope + scope_length > length) {
                    return fail("bad device scope length");
                }
                vp_puts("    scope type ");
                vp_put_u64(byte_at(dmar + offset + scope));
                vp_puts(" enumeration id ");
                vp_put_u64(byte_at(dmar + offset + scope + 4));
                vp_puts(" start bus ");
                vp_put_u64(byte_at(dmar + offset + scope + 5));
                vp_putc('\n');
                scope += scope_length;
            }
        }
        offset += length;
    }
    if (base == 0 || (base & 0xfff) != 0 || base >= (4UL << 30)) {
        return fail("no usable DRHD");
    }
    const u32 version = vp_mmio_read32(base);
    const u64 cap = *(volatile u64 *) (base + 8);
    const u64 ecap = *(volatile u64 *) (base + 0x10);
    vp_puts("drhd base ");
    vp_put_hex(base);
    vp_puts(" ver ");
    vp_put_hex(version);
    vp_puts(" cap ");
    vp_put_hex(cap);
    vp_puts(" ecap ");
    vp_put_hex(ecap);
    vp_putc('\n');
    char line[200];
    char *end = vp_append(line, "iommu dmar haw=");
    end = vp_append_u64(end, haw);
    end = vp_append(end, " intr_remap=");
    end = vp_append_u64(end, dmar_flags & 1);
    end = vp_append(end, " drhd=");
    end = append_hex(end, base);
    end = vp_append(end, " segment=");
    end = vp_append_u64(end, segment);
    end = vp_append(end, " include_pci_all=");
    end = vp_append_u64(end, drhd_flags & 1);
    end = vp_append(end, " ver=");
    end = append_hex(end, version);
    end = vp_append(end, " mgaw=");
    end = vp_append_u64(end, ((cap >> 16) & 0x3f) + 1);
    end = vp_append(end, " sagaw=");
    end = append_hex(end, (cap >> 8) & 0x1f);
    end = vp_append(end, " nfr=");
    end = vp_append_u64(end, ((cap >> 40) & 0xff) + 1);
    end = vp_append(end, " ecap_ir=");
    vp_append_u64(end, (ecap >> 3) & 1);
    vp_result(line);
    return (dmar_flags & 1) == ((ecap >> 3) & 1) && ((cap >> 16) & 0x3f) + 1 == haw ? 0 : 2;
}
