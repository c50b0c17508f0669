/**
 * Devices vioplane serves to another VMM process: the e1000 as a remote PCI function behind QEMU's
 * {@code x-pci-proxy-dev} ({@code vioplane e1000-remote}).
 */
package io.vioplane.cli.remote;
