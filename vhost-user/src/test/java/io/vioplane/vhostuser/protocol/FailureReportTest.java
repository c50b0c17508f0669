package io.vioplane.vhostuser.protocol;

import org.junit.jupiter.api.Test;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;
import static org.junit.jupiter.api.Assertions.*;

/** The failure-reporting rules of each request type, without a socket. */
class FailureReportTest {
    @Test
    void getConfigReportsWithAnEmptyBodyAndStaysOpen() {
        final FailureReport report = FailureReport.of(GET_CONFIG, false, false);
        assertEquals(FailureReport.EMPTY_BODY, report);
        assertFalse(report.closes(GET_CONFIG, true, false));
        assertFalse(report.closes(GET_CONFIG, false, false));
    }

    @Test
    void statusRepliesReportWithANonZeroStatusWithoutReplyAck() {
        for (int request : new int[] {IOTLB_MSG, POSTCOPY_END, SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE}) {
            assertEquals(FailureReport.STATUS, FailureReport.of(request, false, false), name(request));
        }
    }

    @Test
    void aReplyBodyThatCannotSayFailedClosesTheConnection() {
        for (int request : new int[] {GET_FEATURES, GET_PROTOCOL_FEATURES, GET_VRING_BASE, GET_QUEUE_NUM}) {
            final FailureReport report = FailureReport.of(request, true, true);
            assertEquals(FailureReport.NONE, report, name(request));
            assertTrue(report.closes(request, true, false), "the front-end waits for " + name(request));
        }
    }

    @Test
    void requestsWithoutABodyAreAcknowledgedAsFailedOnlyWithNeedReplyAndReplyAck() {
        assertEquals(FailureReport.STATUS, FailureReport.of(SET_VRING_NUM, true, true));
        assertEquals(FailureReport.NONE, FailureReport.of(SET_VRING_NUM, true, false));
        assertEquals(FailureReport.NONE, FailureReport.of(SET_VRING_NUM, false, true));
    }

    @Test
    void anUnreportedHandlerRefusalKeepsTheConnectionAndAnUnreportedRejectionClosesIt() {
        final FailureReport report = FailureReport.of(SET_VRING_NUM, false, false);
        assertFalse(report.closes(SET_VRING_NUM, true, false), "a handler's refusal nobody waits on");
        assertTrue(report.closes(SET_VRING_NUM, false, false), "a broken message that cannot be reported");
        assertTrue(FailureReport.of(SET_VRING_NUM, true, true).closes(SET_VRING_NUM, true, true), "asked to close");
    }
}
