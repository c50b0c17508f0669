package io.vioplane.vmx.testkit;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.machine.VcpuBackend;
import io.vioplane.vmx.vcpu.Vcpu;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A vCPU backend that replays a list of exits, for testing the machine's run loop where /dev/kvm is missing.
 * When the list is used up it behaves like a guest spinning in ring 3: {@link #run()} blocks until
 * {@link #kick()}, then reports an external-interrupt exit, as KVM does.
 */
public final class ScriptedVcpu implements Vcpu, VcpuBackend {
    private final Deque<VmExit> script;
    private final List<Long> completedReads = new ArrayList<>();
    private final CountDownLatch kicked = new CountDownLatch(1);
    private BootCpuState loaded;
    private boolean closed;

    public ScriptedVcpu(final List<VmExit> exits) {
        this.script = new ArrayDeque<>(exits);
    }

    @Override
    public Vcpu createVcpu(final GuestMemory memory) {
        return this;
    }

    @Override
    public int guestRing() {
        return 3;
    }

    @Override
    public void load(final BootCpuState state, final long firstArgument) {
        loaded = state;
    }

    @Override
    public VmExit run() {
        final VmExit next = script.poll();
        if (next != null) {
            return next;
        }
        try {
            if (!kicked.await(60, TimeUnit.SECONDS)) {
                throw new AssertionError("nobody kicked the spinning scripted vCPU within 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return VmExit.of(ExitReason.EXTERNAL_INTERRUPT);
    }

    @Override
    public void completeRead(final long value) {
        completedReads.add(value);
    }

    @Override
    public void kick() {
        kicked.countDown();
    }

    @Override
    public void close() {
        closed = true;
    }

    /** @return the values the machine supplied for reads */
    public List<Long> completedReads() {
        return completedReads;
    }

    /** @return the state the machine loaded */
    public BootCpuState loaded() {
        return loaded;
    }

    /** @return whether the machine closed the vCPU */
    public boolean closed() {
        return closed;
    }
}
