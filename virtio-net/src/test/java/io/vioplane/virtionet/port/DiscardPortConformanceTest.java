package io.vioplane.virtionet.port;

import io.vioplane.virtionet.testkit.NetPortConformance;

/** The discard port keeps the NetPort contract; it never answers. */
class DiscardPortConformanceTest extends NetPortConformance {
    @Override
    protected NetPort openPort() {
        return new DiscardPort();
    }

    @Override
    protected void closePort() {
    }

    @Override
    protected byte[] askingFrame() {
        return null;
    }
}
