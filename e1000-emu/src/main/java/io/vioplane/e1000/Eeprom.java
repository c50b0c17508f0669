package io.vioplane.e1000;

import io.vioplane.platform.runtime.CounterSet;

import static io.vioplane.e1000.E1000Registers.*;

/**
 * The 82540EM's serial EEPROM: a 64-word Microwire part (EECD.EE_SIZE clear; SDM 5.3 and 5.6.1), read by bit-banging
 * EECD (SK clock, CS select, DI in, DO out; SDM 13.4.3) or through EERD (SDM 13.4.4). The image follows SDM table
 * 5-2: Ethernet address in words 0-2, compatibility word 3, PBA number 8-9, initialization control 1 (0x0A),
 * subsystem ID/vendor (0x0B/0x0C), device/vendor ID (0x0D/0x0E), initialization control 2 (0x0F), and word 0x3F
 * chosen so that words 0x00-0x3F sum to 0xBABA (SDM 5.6.21).
 *
 * <p>Microwire read (SDM 5.3.1): with CS high, the guest clocks in 9 bits on rising SK edges: the start bit and
 * opcode {@code 110}, then 6 address bits; after a dummy 0, DO presents the word's bits MSB first, advancing on
 * each falling SK edge, continuing into the following words. Other opcodes (write, erase, EWEN/EWDS) are ignored:
 * the image is read-only here.
 */
final class Eeprom {
    /** Words in the image. */
    static final int WORDS = 64;
    /** The sum of all 64 words of a valid image (SDM 5.6.21). */
    static final int CHECKSUM_TARGET = 0xBABA;
    /** The Microwire READ opcode with its start bit. */
    static final int READ_OPCODE = 0b110;
    private static final int COMMAND_BITS = 9;
    private static final int ADDRESS_MASK = WORDS - 1;
    private static final int[] TEMPLATE = {
        0x0000, 0x0000, 0x0000, 0x0000, 0xFFFF, 0x0000, 0x0000, 0x0000,
        0x3000, 0x1000, 0x6403, 0x100E, 0x8086, 0x100E, 0x8086, 0x3040,
        0x0008, 0x2000, 0x7E14, 0x0048, 0x1000, 0x00D8, 0x0000, 0x2700,
        0x6CC9, 0x3150, 0x0722, 0x040B, 0x0984, 0x0000, 0xC000, 0x0706,
        0x1008, 0x0000, 0x0F04, 0x7FFF, 0x4D01, 0xFFFF, 0xFFFF, 0xFFFF,
        0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,
        0x0100, 0x4000, 0x121C, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,
        0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x0000,
    };

    private enum State { IDLE, COMMAND, READING, IGNORING }

    private final short[] words = new short[WORDS];
    private final CounterSet<E1000Counter> counters;
    private State state = State.IDLE;
    private int pins;
    private int commandBits;
    private int command;
    private int outputBit;

    /** @param macAddress the Ethernet address, first octet in the low byte */
    Eeprom(final long macAddress, final CounterSet<E1000Counter> counters) {
        this.counters = counters;
        for (int i = 0; i < WORDS; i++) {
            words[i] = (short) TEMPLATE[i];
        }
        for (int i = 0; i < 3; i++) {
            words[i] = (short) (macAddress >>> (16 * i));
        }
        int sum = 0;
        for (int i = 0; i < WORDS - 1; i++) {
            sum += words[i] & 0xFFFF;
        }
        words[WORDS - 1] = (short) (CHECKSUM_TARGET - sum);
    }

    /** @return word {@code address} of the image */
    int word(final int address) {
        return words[address & ADDRESS_MASK] & 0xFFFF;
    }

    /** @return EECD as the guest reads it: its own pins, PRES, GNT when requested, and DO */
    int readEecd() {
        int value = pins | EECD_PRES;
        if ((pins & EECD_REQ) != 0) {
            value |= EECD_GNT;
        }
        if (dataOut()) {
            value |= EECD_DO;
        }
        return value;
    }

    private boolean dataOut() {
        if (state != State.READING) {
            return true;
        }
        if (outputBit < 0) {
            return false;
        }
        final int word = words[(outputBit >>> 4) & ADDRESS_MASK] & 0xFFFF;
        return ((word >>> (15 - (outputBit & 15))) & 1) != 0;
    }

    /** Applies a guest write to EECD: pin changes drive the Microwire state machine. */
    void writeEecd(final int value) {
        final int previous = pins;
        pins = value & (EECD_SK | EECD_CS | EECD_DI | EECD_FWE_MASK | EECD_REQ);
        final boolean selected = (pins & EECD_CS) != 0;
        final boolean clockRose = (previous & EECD_SK) == 0 && (pins & EECD_SK) != 0;
        final boolean clockFell = (previous & EECD_SK) != 0 && (pins & EECD_SK) == 0;
        if (!selected) {
            // Clock edges while deselected are part of the Microwire standby and release sequences (Linux's
            // e1000_standby_eeprom raises SK with CS low): harmless. Dropping CS in the middle of a command is not.
            if (state == State.COMMAND && commandBits > 0) {
                counters.increment(E1000Counter.EEPROM_OUT_OF_SEQUENCE);
            }
            state = State.IDLE;
            return;
        }
        if ((previous & EECD_CS) == 0) {
            state = State.COMMAND;
            commandBits = 0;
            command = 0;
            return;
        }
        if (clockRose && state == State.COMMAND) {
            shiftIn((pins & EECD_DI) != 0 ? 1 : 0);
        } else if (clockFell && state == State.READING) {
            outputBit = (outputBit + 1) & (WORDS * 16 - 1);
        }
    }

    private void shiftIn(final int bit) {
        command = (command << 1) | bit;
        if (commandBits == 0 && bit == 0) {
            return;
        }
        if (++commandBits < COMMAND_BITS) {
            return;
        }
        if ((command >>> 6) == READ_OPCODE) {
            state = State.READING;
            outputBit = ((command & ADDRESS_MASK) << 4) - 1;
        } else {
            counters.increment(E1000Counter.EEPROM_UNSUPPORTED_OPCODE);
            state = State.IGNORING;
        }
    }

    /**
     * Performs an EERD read (SDM 13.4.4): with START set, the word at ADDR is returned in DATA with DONE.
     *
     * @return the register value after the write
     */
    int writeEerd(final int value) {
        if ((value & EERD_START) == 0) {
            return value & ~(EERD_DONE | (0xFFFF << EERD_DATA_SHIFT));
        }
        final int address = (value >>> EERD_ADDR_SHIFT) & 0xFF;
        final int request = value & (0xFF << EERD_ADDR_SHIFT);
        if (address >= WORDS) {
            counters.increment(E1000Counter.EEPROM_ADDRESS_BEYOND_IMAGE);
            return request | EERD_DONE;
        }
        return request | EERD_DONE | (word(address) << EERD_DATA_SHIFT);
    }

    /** Returns the bit-bang interface to idle (a device reset). */
    void reset() {
        state = State.IDLE;
        pins = 0;
        commandBits = 0;
        command = 0;
        outputBit = 0;
    }
}
