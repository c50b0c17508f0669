package io.vioplane.tap.bridge;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.tap.capture.CaptureRecord;
import io.vioplane.tap.capture.PacketCapture;
import io.vioplane.virtionet.port.TxFrame;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * An L2 learning bridge joining any number of ports (guests and TAP devices). For each frame entering from a
 * port: the source address is checked (multicast sources dropped; a guest port with anti-spoofing drops any
 * source but its own) and learned; a known unicast destination is forwarded to its port only; unknown
 * unicast, broadcast and multicast are flooded to every other port; a frame larger than the egress port's MTU
 * is dropped there; a frame to the port it came from is filtered. Every decision is counted per port, so that every
 * frame is accounted for ({@link BridgePortCounters}).
 *
 * <p>All ports run on one data-plane thread; ports are added before traffic starts (or on that thread). The
 * clock is read once per {@link #CLOCK_STRIDE} frames: aging needs seconds, not nanoseconds.
 */
public final class Bridge {
    /** The most ports a bridge joins. */
    public static final int MAX_PORTS = 64;
    /** Frames between clock reads. */
    public static final int CLOCK_STRIDE = 64;
    /** The default aging time (Linux bridge default), in nanoseconds. */
    public static final long DEFAULT_AGING_NS = 300_000_000_000L;
    private static final ValueLayout.OfInt U32_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort U16_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;

    private final String name;
    private final Counters counters;
    private final ForwardingDatabase fdb;
    private final LongSupplier clock;
    private final List<BridgeMember> members = new ArrayList<>();
    private final List<BridgePortCounters> portCounters = new ArrayList<>();
    private final long[] allowedSource = new long[MAX_PORTS];
    private final MemorySegment addresses = Arena.ofAuto().allocate(16, 8);
    private PacketCapture capture;
    private long nowNs;
    private int framesSinceClock = CLOCK_STRIDE;

    /**
     * @param name        names the bridge in counters
     * @param counters    where per-port counters go
     * @param fdbCapacity forwarding database entries (a power of two)
     * @param agingNs     how long an address is remembered without traffic
     * @param clock       a nanosecond clock ({@code System::nanoTime})
     */
    public Bridge(final String name, final Counters counters, final int fdbCapacity, final long agingNs,
                  final LongSupplier clock) {
        this.name = name;
        this.counters = counters;
        this.fdb = new ForwardingDatabase(fdbCapacity, agingNs);
        this.clock = clock;
        java.util.Arrays.fill(allowedSource, -1);
    }

    /** @return a bridge with a 4096-entry database, 300 s aging and the system clock */
    public static Bridge create(final String name, final Counters counters) {
        return new Bridge(name, counters, 4096, DEFAULT_AGING_NS, System::nanoTime);
    }

    /**
     * Joins a port.
     *
     * @param allowedSourceMac with anti-spoofing, the only source address the port may send (6 bytes); null for none
     * @return the port's index in the bridge
     */
    public int join(final BridgeMember member, final byte[] allowedSourceMac) {
        if (members.size() == MAX_PORTS) {
            throw new IllegalStateException("a bridge joins at most " + MAX_PORTS + " ports");
        }
        final int index = members.size();
        members.add(member);
        portCounters.add(new BridgePortCounters(counters, "bridge[" + name + "] port " + member.name()));
        if (allowedSourceMac != null) {
            allowedSource[index] = macValue(allowedSourceMac, 0);
        }
        return index;
    }

    /**
     * Records every frame entering or leaving any port from now on (null to stop); call before traffic or on the
     * data-plane thread.
     */
    public void setCapture(final PacketCapture packetCapture) {
        this.capture = packetCapture;
        if (packetCapture != null) {
            for (int i = 0; i < members.size(); i++) {
                packetCapture.registerPort(i, name + "/" + members.get(i).name());
            }
        }
    }

    /** @return the counters of port {@code index} */
    public BridgePortCounters counters(final int index) {
        return portCounters.get(index);
    }

    /** @return the forwarding database */
    public ForwardingDatabase forwardingDatabase() {
        return fdb;
    }

    private static long macValue(final byte[] mac, final int offset) {
        long value = 0;
        for (int i = 0; i < 6; i++) {
            value = value << 8 | (mac[offset + i] & 0xFF);
        }
        return value;
    }

    private long now() {
        if (++framesSinceClock >= CLOCK_STRIDE) {
            framesSinceClock = 0;
            nowNs = clock.getAsLong();
        }
        return nowNs;
    }

    /**
     * A frame enters the bridge from port {@code ingress}.
     *
     * @return true if it went out of at least one port
     */
    public boolean forward(final int ingress, final TxFrame frame) {
        final BridgePortCounters in = portCounters.get(ingress);
        final int length = frame.lengthBytes();
        in.increment(BridgePortCounters.Kind.IN_PACKETS);
        in.add(BridgePortCounters.Kind.IN_BYTES, length);
        if (capture != null) {
            capture.record(ingress, CaptureRecord.DIRECTION_IN, frame);
        }
        if (length < 14 || frame.copyTo(0, addresses, 0, 12) != 12) {
            in.increment(BridgePortCounters.Kind.RUNT);
            return false;
        }
        final long destination = (addresses.get(U32_BE, 0) & 0xFFFF_FFFFL) << 16 | (addresses.get(U16_BE, 4) & 0xFFFF);
        final long source = ((addresses.get(U32_BE, 6) & 0xFFFF_FFFFL) << 16 | (addresses.get(U16_BE, 10) & 0xFFFF))
                & MAC_MASK;
        if ((source >>> 40 & 1) != 0) {
            in.increment(BridgePortCounters.Kind.INVALID_SOURCE);
            return false;
        }
        if (allowedSource[ingress] >= 0 && allowedSource[ingress] != source) {
            in.increment(BridgePortCounters.Kind.SPOOFED);
            return false;
        }
        final long now = now();
        fdb.learn(source, ingress, now);
        if ((destination >>> 40 & 1) == 0) {
            final int egress = fdb.lookup(destination, now);
            if (egress == ingress) {
                in.increment(BridgePortCounters.Kind.SAME_PORT);
                return false;
            }
            if (egress >= 0) {
                return send(egress, frame, length, false);
            }
        }
        in.increment(BridgePortCounters.Kind.FLOODED_IN);
        boolean sent = false;
        for (int port = 0; port < members.size(); port++) {
            if (port != ingress) {
                sent |= send(port, frame, length, true);
            }
        }
        return sent;
    }

    private boolean send(final int egress, final TxFrame frame, final int length, final boolean flood) {
        final BridgeMember member = members.get(egress);
        final BridgePortCounters out = portCounters.get(egress);
        if (length > member.maxFrameBytes() && !frame.header().isGso()) {
            out.increment(BridgePortCounters.Kind.TOO_BIG);
            return false;
        }
        if (!member.egress(frame)) {
            out.increment(BridgePortCounters.Kind.EGRESS_FULL);
            return false;
        }
        out.increment(BridgePortCounters.Kind.OUT_PACKETS);
        out.add(BridgePortCounters.Kind.OUT_BYTES, length);
        if (capture != null) {
            capture.record(egress, CaptureRecord.DIRECTION_OUT, frame);
        }
        if (flood) {
            out.increment(BridgePortCounters.Kind.FLOODED);
        }
        return true;
    }

    /** Tells every port to write what it queued (a batch of frames from one producer has ended). */
    public void flush() {
        for (int port = 0; port < members.size(); port++) {
            members.get(port).flush();
        }
    }

    /** @return how many ports are joined */
    public int size() {
        return members.size();
    }
}
