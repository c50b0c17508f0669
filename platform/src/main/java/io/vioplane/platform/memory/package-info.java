/**
 * Guest memory: the address space a guest driver names in its rings and descriptors, and the only way
 * vioplane reads or writes it.
 *
 * <p>Every access goes through a bounds-checked {@link java.lang.foreign.MemorySegment}; an address outside
 * every region, a range that wraps the 64-bit address space, a range that straddles two regions where that
 * is not explicitly allowed, or a misaligned atomic access fails with a
 * {@link io.vioplane.platform.memory.MemoryAccessException} naming the address, never with a JVM crash.
 * {@link io.vioplane.platform.memory.DmaSpace} is the translation interface devices see; the IOMMU
 * decorates it.
 */
package io.vioplane.platform.memory;
