package io.vioplane.vring;

import io.vioplane.platform.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

class DescriptorChainTest {
    @Test
    void copiesAcrossSegmentsFromAnyOffsetAndStopsAtTheRunEnd() {
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 1 << 20); Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < 30; i++) {
                memory.putByte(0x1000 + i, (byte) i);
            }
            final DescriptorChain chain = new DescriptorChain();
            chain.begin(3);
            assertNull(chain.addSegment(0x1000, 10, false, memory));
            assertNull(chain.addSegment(0x100A, 0, false, memory), "zero-length segments are skipped");
            assertNull(chain.addSegment(0x100A, 20, false, memory));
            assertNull(chain.addSegment(0x8000, 16, true, memory));
            assertEquals(2, chain.readableCount());
            assertEquals(1, chain.writableCount());
            assertEquals(30, chain.readableBytes());
            assertEquals(16, chain.writableBytes());

            final MemorySegment out = arena.allocate(32);
            assertEquals(12, chain.copyFromReadable(5, out, 0, 12));
            for (int i = 0; i < 12; i++) {
                assertEquals(5 + i, out.get(ValueLayout.JAVA_BYTE, i));
            }
            assertEquals(5, chain.copyFromReadable(25, out, 0, 32), "the readable run ends after 30 bytes");

            final MemorySegment in = arena.allocate(32);
            in.fill((byte) 0x5A);
            assertEquals(16, chain.copyToWritable(0, in, 0, 32), "the writable run holds 16 bytes");
            assertEquals(0x5A, memory.getByte(0x800F));
            assertEquals(0, memory.getByte(0x8010), "nothing beyond the writable buffer");
        }
    }

    @Test
    void aWritableOnlyChainHasNothingToRead() {
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 1 << 20); Arena arena = Arena.ofConfined()) {
            final DescriptorChain chain = new DescriptorChain();
            chain.begin(0);
            assertNull(chain.addSegment(0x2000, 1500, true, memory));
            assertEquals(0, chain.readableBytes());
            assertEquals(0, chain.copyFromReadable(0, arena.allocate(64), 0, 64),
                    "a device-writable buffer is never read as if it were readable");
        }
    }

    @Test
    void aReadOnlyChainHasNowhereToWrite() {
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 1 << 20); Arena arena = Arena.ofConfined()) {
            final DescriptorChain chain = new DescriptorChain();
            chain.begin(0);
            assertNull(chain.addSegment(0x2000, 64, false, memory));
            final MemorySegment in = arena.allocate(64);
            in.fill((byte) 1);
            assertEquals(0, chain.copyToWritable(0, in, 0, 64), "a device-readable buffer is never written");
            assertEquals(0, memory.getByte(0x2000));
        }
    }

    @Test
    void segmentAccessorsRefuseIndicesOutsideTheChain() {
        final DescriptorChain chain = new DescriptorChain(2);
        chain.begin(0);
        assertThrows(IndexOutOfBoundsException.class, () -> chain.segmentGpa(0));
        assertThrows(IllegalArgumentException.class, () -> new DescriptorChain(0));
    }
}
