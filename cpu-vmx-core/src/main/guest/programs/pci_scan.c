/* Enumerates PCI bus 0 through ECAM (PCIe Base 7.2.2) and walks each function's capability list. */
#include "../runtime/vioplane.h"

#define ECAM_GPA 0xB0000000UL

static u32 config_read32(u32 device, u32 function, u32 reg) {
    return vp_mmio_read32(ECAM_GPA + (device << 15) + (function << 12) + reg);
}

int vp_main(u64 ram_bytes) {
    (void) ram_bytes;
    u32 functions = 0;
    u32 first_ids = 0;
    for (u32 device = 0; device < 32; device++) {
        const u32 header = config_read32(device, 0, 0x0c);
        const u32 function_count = (config_read32(device, 0, 0) != 0xffffffff && (header >> 16) & 0x80) ? 8 : 1;
        for (u32 function = 0; function < function_count; function++) {
            const u32 ids = config_read32(device, function, 0);
            if (ids == 0xffffffff) {
                continue;
            }
            if (functions == 0) {
                first_ids = ids;
            }
            functions++;
            vp_puts("pci 00:");
            vp_put_u64(device);
            vp_putc('.');
            vp_put_u64(function);
            vp_puts(" ids ");
            vp_put_hex(ids);
            vp_puts(" class ");
            vp_put_hex(config_read32(device, function, 0x08) >> 8);
            if (config_read32(device, function, 0x04) & (1u << 20)) {
                vp_puts(" caps");
                u32 pointer = config_read32(device, function, 0x34) & 0xfc;
                for (u32 hops = 0; pointer != 0 && hops < 48; hops++) {
                    const u32 cap = config_read32(device, function, pointer);
                    vp_putc(' ');
                    vp_put_u64(cap & 0xff);
                    pointer = (cap >> 8) & 0xfc;
                }
            }
            vp_putc('\n');
        }
    }
    char line[80];
    char *end = vp_append(line, "pci functions=");
    end = vp_append_u64(end, functions);
    end = vp_append(end, " first=");
    vp_append_u64(end, first_ids);
    vp_result(line);
    return functions > 0 ? 0 : 1;
}
