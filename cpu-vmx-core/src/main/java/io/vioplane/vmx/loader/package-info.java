/** Loading the project's bare-metal guest images (ELF64 x86-64) and the boot tables they start with. */
package io.vioplane.vmx.loader;
