package io.vioplane.platform.runtime;

/**
 * The layout of a counters file: a header, then Agrona's counters metadata and values buffers, then a
 * distinct error log. One file per process, named {@code PID.counters} in the run directory.
 *
 * <pre>
 *   0    int   magic 0x56504354 ('VPCT')
 *   4    int   version, written last with release: 0 while the file is being set up
 *   8    long  pid
 *   16   long  start time, epoch milliseconds
 *   24   int   metadata bytes
 *   28   int   values bytes
 *   32   int   error log bytes
 *   36   int   process description length
 *   40   ...   process description, US-ASCII, at most 88 bytes
 *   128  metadata | values | error log
 * </pre>
 */
final class CountersFileLayout {
    static final int MAGIC = 0x56504354;
    static final int VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int PID_OFFSET = 8;
    static final int START_TIME_OFFSET = 16;
    static final int METADATA_LENGTH_OFFSET = 24;
    static final int VALUES_LENGTH_OFFSET = 28;
    static final int ERROR_LOG_LENGTH_OFFSET = 32;
    static final int DESCRIPTION_LENGTH_OFFSET = 36;
    static final int DESCRIPTION_OFFSET = 40;
    static final int MAX_DESCRIPTION_BYTES = 88;
    static final int HEADER_BYTES = 128;
    static final String SUFFIX = ".counters";

    private CountersFileLayout() {
    }
}
