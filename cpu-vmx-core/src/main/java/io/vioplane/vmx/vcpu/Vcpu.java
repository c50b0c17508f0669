package io.vioplane.vmx.vcpu;

import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.exit.VmExit;

/**
 * A virtual CPU backend: enters the guest until the next VM exit and reports it in VT-x terms
 * ({@link VmExit}, Intel SDM Vol. 3, chapter 28). {@code KvmVcpu} runs the guest on /dev/kvm; an interpreter
 * (a later issue) produces the same exits in software.
 *
 * <p>One thread calls {@link #load}, {@link #run} and {@link #completeRead}; {@link #kick} may come from any
 * thread.
 */
public interface Vcpu extends AutoCloseable {
    /** Sets the registers a guest image starts with; {@code firstArgument} goes in RDI. */
    void load(BootCpuState state, long firstArgument);

    /** Runs the guest until it exits; a {@link #kick} makes it return an external-interrupt exit. */
    VmExit run();

    /** Supplies the value of the read (MMIO load, IN) the last exit reported, before the next {@link #run}. */
    void completeRead(long value);

    /** Makes the current or next {@link #run} return promptly. Safe from any thread. */
    void kick();

    @Override
    void close();
}
