package io.vioplane.virtionet;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The gratuitous reverse-ARP frame a back-end broadcasts for a guest after live migration, so that switches
 * learn where its MAC now lives (vhost-user SEND_RARP; RFC 903 frame layout, as QEMU's announce sends it).
 */
public final class Rarp {
    /** Ethertype of RARP. */
    public static final int ETHERTYPE = 0x8035;
    /** The frame's length, padded to Ethernet's minimum without FCS. */
    public static final int FRAME_BYTES = 60;

    private Rarp() {
    }

    /** @return a broadcast RARP "request reverse" frame announcing {@code mac} */
    public static byte[] announcement(final byte[] mac) {
        final ByteBuffer frame = ByteBuffer.allocate(FRAME_BYTES).order(ByteOrder.BIG_ENDIAN);
        frame.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(mac).putShort((short) ETHERTYPE);
        frame.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 3);
        frame.put(mac).putInt(0).put(mac).putInt(0);
        return frame.array();
    }
}
