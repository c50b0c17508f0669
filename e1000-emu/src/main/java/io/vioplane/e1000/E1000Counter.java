package io.vioplane.e1000;

import io.vioplane.platform.runtime.CounterKind;

/**
 * What the 82540EM model counts beyond the guest-visible statistics registers: every kind of guest misbehaviour,
 * named after who was at fault, and the model's own work. Published through a
 * {@link io.vioplane.platform.runtime.CounterSet}.
 */
public enum E1000Counter implements CounterKind {
    UNKNOWN_REGISTER_READ("guest read an unimplemented register"),
    UNKNOWN_REGISTER_WRITE("guest wrote an unimplemented register"),
    READ_ONLY_REGISTER_WRITE("guest wrote a read-only register"),
    ODD_ACCESS_SIZE("guest accessed a register with a size other than 4 or unaligned"),
    IO_RESERVED_ACCESS("guest accessed a reserved I/O BAR offset"),
    RING_LENGTH_NOT_128("guest gave a ring length that is not a multiple of 128 (low bits ignored)"),
    RING_OUTSIDE_MEMORY("guest placed a descriptor ring outside guest memory"),
    TAIL_BEYOND_RING("guest wrote a tail beyond the ring"),
    HEAD_BEYOND_RING("guest left a head beyond the ring"),
    TX_BUFFER_OUTSIDE_MEMORY("guest gave a transmit buffer outside guest memory"),
    TX_ZERO_LENGTH("guest gave a transmit descriptor of length 0"),
    TX_PACKET_TOO_LONG("guest gave a packet longer than the transmit buffer"),
    TX_PACKET_LONGER_THAN_RING("guest gave a packet with more descriptors than the ring"),
    TX_CONTEXT_MID_PACKET("guest put a context descriptor in the middle of a packet"),
    TX_CHECKSUM_OUTSIDE_FRAME("guest asked for a checksum outside the frame"),
    TSO_MSS_ZERO("guest asked for TSO with MSS 0"),
    TSO_HEADER_PAST_DATA("guest gave a TSO header length past the data or the header buffer"),
    TSO_PAYLOAD_MISMATCH("guest gave a TSO payload length that disagrees with the data"),
    TX_PORT_DROPS("port refused a transmitted frame"),
    TX_FRAMES("frames transmitted"),
    RX_BUFFER_OUTSIDE_MEMORY("guest gave a receive buffer outside guest memory"),
    RX_NULL_BUFFER("guest gave a receive descriptor with a null buffer (skipped)"),
    RX_FRAMES("frames received"),
    RX_FILTERED("frames filtered (address, VLAN)"),
    RX_OVERSIZED("frames dropped: longer than RCTL allows"),
    RX_RUNT("frames dropped: shorter than an Ethernet header"),
    RX_MISSED("frames dropped: not enough receive buffers"),
    RX_WHILE_DISABLED("frames dropped: receiver disabled or link down"),
    EEPROM_OUT_OF_SEQUENCE("guest drove the EEPROM interface out of sequence"),
    EEPROM_UNSUPPORTED_OPCODE("guest sent an EEPROM opcode other than READ (ignored)"),
    EEPROM_ADDRESS_BEYOND_IMAGE("guest read an EEPROM word beyond the image"),
    MDIC_NO_SUCH_PHY("guest addressed MDIC to a PHY that does not exist"),
    MDIC_BAD_REGISTER("guest accessed a PHY register that does not exist or is read-only"),
    RESETS("device resets"),
    INTERRUPTS("interrupt line assertions");

    private final String label;

    E1000Counter(final String label) {
        this.label = label;
    }

    @Override
    public String label() {
        return label;
    }
}
