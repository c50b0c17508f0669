/**
 * Benchmarks of the VT-d model: what a warm IOTLB adds to a device's DMA translation compared with no IOMMU, a
 * cold 4-level walk, and a page-selective invalidation.
 */
package io.vioplane.perf.iommu;
