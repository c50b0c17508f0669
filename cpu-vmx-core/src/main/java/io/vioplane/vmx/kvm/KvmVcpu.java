package io.vioplane.vmx.kvm;

import io.vioplane.platform.sys.Errno;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.Ioctl;
import io.vioplane.platform.sys.Kvm;
import io.vioplane.platform.sys.Mmap;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.ThreadKick;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.vcpu.Vcpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A vCPU of a {@link KvmVm} ({@code Documentation/virt/kvm/api.rst}, 4.7 KVM_CREATE_VCPU, 4.10 KVM_RUN, 5 "The
 * kvm_run structure"). Each {@link #run()} enters the guest and returns the VT-x exit KVM reported
 * ({@link KvmExitDecoder}).
 *
 * <p>One thread runs the vCPU; any thread may {@link #kick()} it: immediate_exit is set and the vCPU thread is
 * sent a signal, so KVM_RUN returns (or does not enter) with an external-interrupt exit. The vCPU owns its
 * descriptor and kvm_run mapping and releases both on {@link #close()}.
 */
public final class KvmVcpu implements Vcpu {
    private static final int CPUID_ENTRIES = 256;
    private static final int CPUID_ENTRY_BYTES = 40;

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final KvmRunPage run;
    private final MemorySegment scratch;
    private final Arena pageArena;
    private volatile int runningThreadId;
    private VmExit lastExit;
    private boolean closed;

    private KvmVcpu(final int fd, final MemorySegment runPage, final Arena pageArena) {
        this.fd = fd;
        this.pageArena = pageArena;
        this.run = new KvmRunPage(runPage);
        this.scratch = arena.allocate(8 + CPUID_ENTRIES * CPUID_ENTRY_BYTES, 8);
    }

    /** Creates vCPU {@code id} of {@code vm}, maps its kvm_run area and gives it the host's supported CPUID. */
    public static KvmVcpu create(final KvmVm vm, final int id) {
        ThreadKick.install();
        final int fd = Ioctl.invoke(vm.fd(), Kvm.CREATE_VCPU, id, "KVM_CREATE_VCPU " + id);
        KvmVcpu vcpu = null;
        try {
            final int mmapBytes = Ioctl.invoke(vm.systemFd(), Kvm.GET_VCPU_MMAP_SIZE, 0L, "KVM_GET_VCPU_MMAP_SIZE");
            final Arena pageArena = Arena.ofShared();
            final MemorySegment page;
            try {
                page = Mmap.map(fd, 0, mmapBytes, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED, pageArena);
            } catch (RuntimeException e) {
                pageArena.close();
                throw e;
            }
            vcpu = new KvmVcpu(fd, page, pageArena);
            vcpu.setSupportedCpuid(vm);
            return vcpu;
        } catch (RuntimeException e) {
            if (vcpu != null) {
                vcpu.close();
            } else {
                FileIo.closeQuietly(fd);
            }
            throw e;
        }
    }

    private void setSupportedCpuid(final KvmVm vm) {
        scratch.fill((byte) 0);
        scratch.set(ValueLayout.JAVA_INT, 0, CPUID_ENTRIES);
        Ioctl.invoke(vm.systemFd(), Kvm.GET_SUPPORTED_CPUID, scratch, "KVM_GET_SUPPORTED_CPUID");
        Ioctl.invoke(fd, Kvm.SET_CPUID2, scratch, "KVM_SET_CPUID2");
    }

    @Override
    public void load(final BootCpuState state, final long firstArgument) {
        try (Arena call = Arena.ofConfined()) {
            final MemorySegment sregs = call.allocate(KvmSregs.BYTES, 8);
            Ioctl.invoke(fd, Kvm.GET_SREGS, sregs, "KVM_GET_SREGS");
            new KvmSregs(sregs).apply(state);
            Ioctl.invoke(fd, Kvm.SET_SREGS, sregs, "KVM_SET_SREGS");
            final MemorySegment regs = call.allocate(KvmRegs.BYTES, 8);
            new KvmRegs(regs).reset(state.ripGva(), state.rspGva(), state.rflags(), firstArgument);
            Ioctl.invoke(fd, Kvm.SET_REGS, regs, "KVM_SET_REGS");
        }
    }

    @Override
    public VmExit run() {
        if (runningThreadId == 0) {
            runningThreadId = ThreadKick.currentThreadId();
        }
        final int result = Ioctl.tryInvoke(fd, Kvm.RUN, 0L);
        if (result == -Errno.EINTR) {
            run.immediateExit(false);
            lastExit = VmExit.of(ExitReason.EXTERNAL_INTERRUPT);
            return lastExit;
        }
        if (result < 0) {
            throw new SysException("ioctl(fd=" + fd + ", KVM_RUN)", -result);
        }
        lastExit = KvmExitDecoder.decode(run);
        return lastExit;
    }

    @Override
    public void completeRead(final long value) {
        final VmExit exit = lastExit;
        if (exit == null || exit.accessWrite() || exit.accessSizeBytes() == 0) {
            return;
        }
        if (exit.reason() == ExitReason.EPT_VIOLATION) {
            run.writeData(run.mmioDataOffset(), exit.accessSizeBytes(), value);
        } else if (exit.reason() == ExitReason.IO_INSTRUCTION) {
            final int count = (int) exit.detail();
            final long offset = run.ioDataOffset(exit.accessSizeBytes(), count);
            for (int i = 0; i < count && offset >= 0; i++) {
                run.writeData(offset + (long) i * exit.accessSizeBytes(), exit.accessSizeBytes(), value);
            }
        }
    }

    @Override
    public void kick() {
        run.immediateExit(true);
        final int threadId = runningThreadId;
        if (threadId != 0) {
            ThreadKick.kick(threadId);
        }
    }

    /** @return a descriptor of this vCPU's binary statistics (KVM_GET_STATS_FD); the caller owns it */
    public int openStatsFd() {
        return Ioctl.invoke(fd, Kvm.GET_STATS_FD, 0L, "KVM_GET_STATS_FD");
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        pageArena.close();
        arena.close();
        FileIo.closeQuietly(fd);
    }
}
