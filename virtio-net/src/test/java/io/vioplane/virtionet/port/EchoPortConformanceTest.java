package io.vioplane.virtionet.port;

import io.vioplane.virtionet.testkit.NetPortConformance;

/** The echo port keeps the NetPort contract; it answers every frame with the frame itself, MACs swapped. */
class EchoPortConformanceTest extends NetPortConformance {
    private EchoPort echo;

    @Override
    protected NetPort openPort() {
        echo = new EchoPort(1, 64);
        return echo;
    }

    @Override
    protected void closePort() {
        echo.close();
    }

    @Override
    protected byte[] askingFrame() {
        final byte[] frame = new byte[60];
        frame[0] = 0x02;
        frame[6] = 0x52;
        frame[12] = 0x08;
        return frame;
    }
}
