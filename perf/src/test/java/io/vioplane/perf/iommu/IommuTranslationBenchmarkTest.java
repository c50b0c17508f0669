package io.vioplane.perf.iommu;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IOMMU benchmarks' bodies, run without JMH: every translation they time succeeds and lands where the tables
 * say, and the warm path allocates nothing. Says nothing about speed.
 */
class IommuTranslationBenchmarkTest {
    private final IommuTranslationBenchmark benchmark = new IommuTranslationBenchmark();

    IommuTranslationBenchmarkTest() {
        benchmark.setUp();
    }

    @AfterEach
    void tearDown() {
        benchmark.tearDown();
    }

    @Test
    void everyBenchmarkTranslatesToTheMappedPages() {
        for (int i = 0; i < 2 * IommuTranslationBenchmark.PAGES; i++) {
            assertTrue(benchmark.resolveWithoutIommu());
            assertTrue(benchmark.resolveThroughIommu());
            final long walked = benchmark.coldFourLevelWalk();
            assertTrue(walked >= 16L << 20 && walked < (16L << 20) + 4096L * IommuTranslationBenchmark.PAGES);
            final long refilled = benchmark.invalidatePageThenTranslate();
            assertEquals(0, refilled & 0xFFF);
        }
    }

    @Test
    void warmTranslationAllocatesNothing() {
        for (int i = 0; i < 20_000; i++) {
            assertTrue(benchmark.resolveThroughIommu());
        }
        final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        final long before = threads.getCurrentThreadAllocatedBytes();
        boolean all = true;
        for (int i = 0; i < 10_000; i++) {
            all &= benchmark.resolveThroughIommu();
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(all);
        assertTrue(allocated < 4096, allocated + " bytes allocated by 10,000 warm translations");
    }
}
