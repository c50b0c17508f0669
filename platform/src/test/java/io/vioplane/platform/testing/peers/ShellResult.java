package io.vioplane.platform.testing.peers;

/**
 * How a command run by the guest's shell ended.
 *
 * @param command    the command as sent to the shell
 * @param exitStatus the shell's {@code $?} after it
 * @param output     what it printed on the console (standard output and error, carriage returns dropped)
 */
public record ShellResult(String command, int exitStatus, String output) {
    /** @return true if the command exited with status 0 */
    public boolean succeeded() {
        return exitStatus == 0;
    }

    @Override
    public String toString() {
        return "$ " + command + "\n" + output + (output.endsWith("\n") || output.isEmpty() ? "" : "\n")
                + "[exit status " + exitStatus + "]";
    }
}
