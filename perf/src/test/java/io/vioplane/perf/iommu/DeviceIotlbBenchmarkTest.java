package io.vioplane.perf.iommu;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device-IOTLB benchmarks' bodies, run without JMH: every translation they time lands on the page the table
 * maps, the warm path allocates nothing, and the echo benchmark echoes every frame with the IOTLB on and off. Says
 * nothing about speed.
 */
class DeviceIotlbBenchmarkTest {
    private final DeviceIotlbBenchmark benchmark = new DeviceIotlbBenchmark();

    DeviceIotlbBenchmarkTest() {
        benchmark.setUp();
    }

    @AfterEach
    void tearDown() {
        benchmark.tearDown();
    }

    @Test
    void everyBenchmarkTranslatesToTheMappedPage() {
        int page = 0;
        for (int i = 0; i < 2 * DeviceIotlbBenchmark.PAGES; i++) {
            page = page + 1 & DeviceIotlbBenchmark.PAGES - 1;
            assertTrue(benchmark.resolveWithoutIommu());
            assertEquals(DeviceIotlbBenchmark.gpaOfPage(page) + 512, benchmark.lastResolvedOffset());
            page = page + 1 & DeviceIotlbBenchmark.PAGES - 1;
            assertTrue(benchmark.resolveThroughDeviceIotlb());
            assertEquals(DeviceIotlbBenchmark.gpaOfPage(page) + 512, benchmark.lastResolvedOffset());
            page = page + 1 & DeviceIotlbBenchmark.PAGES - 1;
            assertTrue(benchmark.invalidateUpdateThenResolve());
            assertEquals(DeviceIotlbBenchmark.gpaOfPage(page) + 512, benchmark.lastResolvedOffset());
        }
    }

    @Test
    void warmTranslationAllocatesNothing() {
        for (int i = 0; i < 20_000; i++) {
            assertTrue(benchmark.resolveThroughDeviceIotlb());
        }
        final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        final long before = threads.getCurrentThreadAllocatedBytes();
        boolean all = true;
        for (int i = 0; i < 10_000; i++) {
            all &= benchmark.resolveThroughDeviceIotlb();
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(all);
        assertTrue(allocated < 4096, allocated + " bytes allocated by 10,000 warm translations");
    }

    @ParameterizedTest(name = "iotlb={0}")
    @ValueSource(booleans = {false, true})
    void theEchoBenchmarkEchoesEveryFrame(final boolean iotlb) throws Exception {
        final VhostUserIotlbEchoBenchmark echo = new VhostUserIotlbEchoBenchmark();
        echo.iotlb = iotlb;
        echo.setUp();
        try {
            for (int i = 0; i < 50; i++) {
                assertEquals(VhostUserIotlbEchoBenchmark.BURST, echo.echoBurst());
            }
        } finally {
            echo.tearDown();
        }
    }
}
