/**
 * The e1000 as vioplane hosts it: its network side shared by every host ({@link io.vioplane.cli.nic.E1000Link}: a
 * TAP through a bridge, or nowhere) and the e1000 on vioplane's own machine under {@code vioplane run}
 * ({@link io.vioplane.cli.nic.MachineE1000}).
 */
package io.vioplane.cli.nic;
