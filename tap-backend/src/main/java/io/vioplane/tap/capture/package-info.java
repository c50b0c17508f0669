/**
 * Packet capture: any port can record the frames it sees (direction, timestamp, port, bytes). The data-plane
 * thread only copies a frame into a lock-free ring (Agrona's one-to-one ring buffer, our own memory) and never
 * waits: a full ring drops the record and counts it. A capture thread moves records into a Chronicle Queue
 * journal; {@link io.vioplane.tap.capture.PcapExporter} turns a journal into a pcap or pcapng file that Wireshark
 * and tshark read.
 */
package io.vioplane.tap.capture;
