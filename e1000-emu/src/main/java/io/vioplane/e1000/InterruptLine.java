package io.vioplane.e1000;

/**
 * The device's interrupt output (INTx pin A once it is a PCI function). Called only when the level changes;
 * asserted exactly while ICR &amp; IMS != 0 (SDM 13.4.17).
 */
@FunctionalInterface
public interface InterruptLine {
    /** Drives the line to {@code asserted}. */
    void set(boolean asserted);
}
