package io.vioplane.cli.conventions;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes every {@code vioplane} command uses (sysexits-like, kept to three), listed in each {@code --help}
 * by {@link CommandConventions}.
 */
public final class ExitCodes {
    /** The command did its work (a daemon: stopped by SIGTERM or SIGINT). */
    public static final int OK = 0;
    /** The command failed at run time (one line names the path or flag; a stack trace only for an internal error). */
    public static final int FAILURE = 1;
    /** The arguments were wrong (one line names the flag). */
    public static final int USAGE = 2;

    private ExitCodes() {
    }

    /** @return the codes and their meaning, as picocli's {@code exitCodeList} shows them */
    static Map<String, String> described() {
        final Map<String, String> codes = new LinkedHashMap<>();
        codes.put(Integer.toString(OK), "success (a daemon: stopped by SIGTERM or SIGINT)");
        codes.put(Integer.toString(FAILURE), "failure at run time, one line naming the path or flag"
                + " (a stack trace only with --verbose or for an internal error)");
        codes.put(Integer.toString(USAGE), "wrong arguments, one line naming the flag");
        return codes;
    }
}
