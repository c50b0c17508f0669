package io.vioplane.platform.runtime;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ErrorLogTest {
    @Test
    void aRepeatedFailureIsCountedEveryTimeAndPrintedOnce() {
        final List<String> lines = new ArrayList<>();
        final ErrorLog log = ErrorLog.printingTo(lines::add);
        for (int i = 0; i < 10_000; i++) {
            log.failure("vm0: the handler refused SET_VRING_NUM: front-end named vring 7");
        }
        log.failure("vm0: the handler refused SET_VRING_NUM: front-end named vring 8");
        assertEquals(10_001, log.count());
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).endsWith("front-end named vring 7"), lines.get(0));
    }

    @Test
    void lifecycleLinesArePrintedEveryTimeAndAreNotErrors() {
        final List<String> lines = new ArrayList<>();
        final ErrorLog log = ErrorLog.printingTo(lines::add);
        log.info("vm0: front-end connected");
        log.info("vm0: front-end connected");
        assertEquals(2, lines.size());
        assertEquals(0, log.count());
    }

    @Test
    void printingStopsAfterTheKindLimitButCountingGoesOn() {
        final List<String> lines = new ArrayList<>();
        final ErrorLog log = ErrorLog.printingTo(lines::add);
        for (int i = 0; i < 2 * ErrorLog.MAX_PRINTED_KINDS; i++) {
            log.failure("front-end named vring " + i);
        }
        assertEquals(2L * ErrorLog.MAX_PRINTED_KINDS, log.count());
        assertEquals(ErrorLog.MAX_PRINTED_KINDS + 1, lines.size());
        assertTrue(lines.getLast().contains("further kinds are only recorded"), lines.getLast());
    }
}
