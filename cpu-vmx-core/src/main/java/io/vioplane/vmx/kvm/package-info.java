/**
 * The KVM backend ({@code Documentation/virt/kvm/api.rst}): VM and vCPU descriptors, memslots, the kvm_run page
 * and register structures as flyweights over native memory, and the KVM-exit to VT-x-exit mapping. All ioctls go
 * through {@code io.vioplane.platform.sys}.
 */
package io.vioplane.vmx.kvm;
