package io.vioplane.platform.memory;

/**
 * What a device intends to do with a range of memory it translates: the permission an IOMMU checks
 * (VT-d 3.x section 3.6: read and write permissions of second-level entries).
 */
public enum AccessMode {
    /** The device reads the range (a driver-to-device buffer). */
    READ,
    /** The device writes the range (a device-to-driver buffer). */
    WRITE,
    /** The device reads and writes the range (rings). */
    READ_WRITE;

    /** @return true if the device reads */
    public boolean reads() {
        return this != WRITE;
    }

    /** @return true if the device writes */
    public boolean writes() {
        return this != READ;
    }
}
