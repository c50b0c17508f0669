package io.vioplane.vmx.machine;

import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.exit.VmExit;

import java.util.Map;

/**
 * How a guest run ended, with its result line and its exits counted by VT-x basic reason.
 *
 * @param fault        the exit that ended a {@link Ending#FAULT} run, else null
 * @param message      one line for the operator
 * @param exitsByReason exits by basic reason ({@link ExitReason}), in reason order
 */
public record RunOutcome(Ending ending, int exitStatus, String result, VmExit fault, String message,
                         Map<Integer, Long> exitsByReason, long elapsedNs) {

    /** How a run ended. */
    public enum Ending {
        /** The guest wrote its exit status to the debug device. */
        GUEST_EXIT,
        /** The guest halted (HLT exit) without an exit status. */
        HALTED,
        /** The guest did what the VMM refuses: triple fault, unclaimed access, entry failure, emulation failure. */
        FAULT,
        /** The guest did not exit within the watchdog's limit. */
        WATCHDOG
    }

    /** @return every exit of the run */
    public long totalExits() {
        return exitsByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** @return whether the guest ended by itself with status 0 */
    public boolean succeeded() {
        return ending == Ending.GUEST_EXIT && exitStatus == 0;
    }
}
