/**
 * A model of an Intel VT-d remapping unit (Intel Virtualization Technology for Directed I/O, architecture
 * specification 3.x), written against guest memory so the VMM's devices can sit behind it:
 *
 * <ul>
 *   <li>DMA remapping in legacy mode: {@link io.vioplane.iommu.TranslationWalker} (root, context and second-level
 *       tables, 3 and 4 levels, 2 MiB and 1 GiB pages, pass-through), {@link io.vioplane.iommu.ContextCache} and
 *       {@link io.vioplane.iommu.Iotlb} with the invalidation rules of chapter 6;</li>
 *   <li>{@link io.vioplane.iommu.VtdUnit}, the unit, and {@link io.vioplane.iommu.VtdRegisterFile}, its registers
 *       by offset and size for an MMIO device to wrap, with fault recording and the fault event;</li>
 *   <li>{@link io.vioplane.iommu.IommuDmaSpace}, the {@code DmaSpace} decorator devices use, so they never know
 *       whether an IOMMU is there;</li>
 *   <li>interrupt remapping ({@link io.vioplane.iommu.Irte}, {@link io.vioplane.iommu.InterruptRoute}) and posted
 *       interrupts ({@link io.vioplane.iommu.PostedInterruptDescriptor}, with
 *       {@link io.vioplane.iommu.InterruptDelivery#notifyPosted} as the VT-x model's hook).</li>
 * </ul>
 *
 * <p>Every table entry, descriptor and IRTE is read from guest memory once into locals, checked, then used; each
 * guest mistake is the spec's fault reason ({@link io.vioplane.iommu.FaultReason}) or a counted error
 * ({@link io.vioplane.iommu.IommuCounter}), never an access outside guest memory.
 */
package io.vioplane.iommu;
