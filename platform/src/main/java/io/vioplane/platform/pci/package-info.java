/**
 * PCI and PCI Express as the guest sees them (PCI Local Bus 3.0; PCIe Base 6.x chapter 7): configuration space with
 * per-byte read-only / read-write / write-1-to-clear masks, BAR sizing and placement, the capability lists (MSI,
 * MSI-X, PCI Express) and extended capabilities, and a host bridge with ECAM and CF8/CFC. Shared by every emulated
 * device (e1000, SR-IOV).
 */
package io.vioplane.platform.pci;
