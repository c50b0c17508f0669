/**
 * Benchmarks of the VT-d model: what a warm IOTLB adds to a device's DMA translation compared with no IOMMU, a
 * cold 4-level walk, and a page-selective invalidation; and of vhost-user's device IOTLB: a warm translation
 * against none, the invalidate-update-refill a strictly unmapping guest causes, and the echo path with the IOTLB
 * on and off.
 */
package io.vioplane.perf.iommu;
