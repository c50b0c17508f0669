/**
 * An L2 learning bridge (IEEE 802.1D transparent bridging, without spanning tree): a forwarding database with
 * aging, flooding of unknown unicast, broadcast and multicast, per-port counters, optional MAC anti-spoofing
 * per guest port and MTU enforcement. Runs on one data-plane thread; no allocation or lock per frame.
 */
package io.vioplane.tap.bridge;
