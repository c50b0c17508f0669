package io.vioplane.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@code vioplane e1000-remote}'s options. */
class E1000RemoteCommandTest {
    @Test
    void aMacAddressBecomesTheEepromsWordOrder() {
        assertEquals(0x5634_1200_5452L, E1000RemoteCommand.parseMac("52:54:00:12:34:56"));
        assertEquals(0xFFEE_DDCC_BBAAL, E1000RemoteCommand.parseMac("AA:bb:CC:dd:EE:ff"));
    }

    @Test
    void malformedMacAddressesAreRefused() {
        for (String text : new String[] {"52:54:00:12:34", "52:54:00:12:34:56:78", "52:54:00:12:34:5g", "152:54:00:12:34:5",
            "", "52-54-00-12-34-56", "52:54:00:12:34:-1"}) {
            assertThrows(IllegalArgumentException.class, () -> E1000RemoteCommand.parseMac(text), text);
        }
    }
}
