package io.vioplane.vmx.machine;

/**
 * Plugs devices into a {@link Machine} after it is built and before it runs (claiming bus ranges, attaching PCI
 * functions, starting their I/O threads), and unplugs them after the run, before the machine releases its memory.
 */
@FunctionalInterface
public interface MachineDevices {
    /** No devices besides the machine's own. */
    MachineDevices NONE = machine -> () -> { };

    /** @return what stops the devices (their threads, descriptors) once the run ended */
    Plugged plug(Machine machine);

    /** Devices plugged into a running machine. */
    interface Plugged extends AutoCloseable {
        /** Stops the devices; called once, after the run, while guest memory is still mapped. */
        @Override
        void close();
    }
}
