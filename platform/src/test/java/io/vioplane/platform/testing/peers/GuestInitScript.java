package io.vioplane.platform.testing.peers;

import java.util.List;

/**
 * The guest's {@code /init}: mounts proc, sysfs and devtmpfs, loads the kernel modules with insmod in load
 * order, brings loopback up, quiets the kernel's console messages, turns terminal echo off, prints
 * {@link LinuxGuestImage#SHELL_READY_LINE} and runs an interactive busybox shell (empty prompts) on the
 * serial console, with the console as its controlling terminal so that Ctrl-C interrupts a command. The console
 * ignores modem control lines ({@code clocal}: a guest migrated to another QEMU keeps its terminal), and a shell
 * that ends is followed by a new one instead of a kernel panic.
 */
final class GuestInitScript {
    private GuestInitScript() {
    }

    /** @return the script's text for {@code modules}, which it loads from {@code /lib/modules/NAME.ko} */
    static String text(final List<KernelModules.ModuleFile> modules) {
        final StringBuilder script = new StringBuilder();
        script.append("#!/bin/sh\n");
        script.append("# /init of the vioplane test guest (built by LinuxGuestImage)\n");
        script.append("export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=dumb\n");
        script.append("mount -t proc proc /proc\n");
        script.append("mount -t sysfs sysfs /sys\n");
        script.append("mount -t devtmpfs devtmpfs /dev\n");
        script.append("mkdir -p /dev/pts && mount -t devpts devpts /dev/pts\n");
        script.append("mount -t tmpfs tmpfs /tmp\n");
        for (final KernelModules.ModuleFile module : modules) {
            script.append("insmod ").append(modulePath(module.name()));
            if (!module.parameters().isEmpty()) {
                script.append(' ').append(module.parameters());
            }
            script.append(" || echo 'vioplane-guest: insmod ").append(module.name()).append(" failed'\n");
        }
        script.append("ip link set lo up\n");
        script.append("hostname vioplane-guest\n");
        script.append("dmesg -n 1\n");
        script.append("stty -echo clocal\n");
        script.append("export PS1= PS2=\n");
        script.append("echo '").append(LinuxGuestImage.SHELL_READY_LINE).append("'\n");
        script.append("while true; do setsid cttyhack sh; echo 'vioplane-guest: the shell ended; a new one reads the"
                + " console'; done\n");
        return script.toString();
    }

    /** @return where the image keeps the module called {@code name} */
    static String modulePath(final String name) {
        return "/lib/modules/" + name + ".ko";
    }
}
