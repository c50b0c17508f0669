package io.vioplane.platform.runtime;

/**
 * One kind of thing a {@link CounterSet} counts: implemented by an enum, one constant per counter. The label is
 * what {@code vioplane stat} shows after the set's prefix, written so that it says who was at fault
 * ({@code "drops: guest gave an oversized frame"}).
 *
 * <pre>{@code
 * enum ExitCounter implements CounterKind {
 *     HLT("exits: HLT"), IO("exits: I/O instruction");
 *     private final String label;
 *     ExitCounter(String label) { this.label = label; }
 *     public String label() { return label; }
 * }
 * }</pre>
 */
public interface CounterKind {
    /** @return the counter's label, without the set's prefix */
    String label();
}
