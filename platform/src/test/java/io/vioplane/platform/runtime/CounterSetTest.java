package io.vioplane.platform.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CounterSetTest {
    enum Exit implements CounterKind {
        HLT("exits: HLT"),
        IO("exits: I/O instruction"),
        FAULT("faults: guest touched unmapped memory");

        private final String label;

        Exit(final String label) {
            this.label = label;
        }

        @Override
        public String label() {
            return label;
        }
    }

    @Test
    void allocatesOneLabelledCounterPerKindWithThePrefix(@TempDir final Path directory) {
        try (CountersFile file = CountersFile.create(directory, "set", 16 * 128, 8 * 1024);
             CounterSet<Exit> exits = new CounterSet<>(Counters.in(file), Exit.class, "vcpu[0]", CounterType.DEVICE);
             CountersFileReader reader = CountersFileReader.open(file.path())) {
            exits.increment(Exit.HLT);
            exits.add(Exit.IO, 41);
            exits.increment(Exit.IO);
            final List<String> labels = new ArrayList<>();
            for (CountersFileReader.Counter counter : reader.counters()) {
                labels.add(counter.label() + "=" + counter.value() + "/" + counter.typeId());
            }
            assertEquals(List.of("vcpu[0] exits: HLT=1/" + CounterType.DEVICE,
                    "vcpu[0] exits: I/O instruction=42/" + CounterType.DEVICE,
                    "vcpu[0] faults: guest touched unmapped memory=0/" + CounterType.DEVICE), labels);
        }
    }

    @Test
    void readsSingleKindsTotalsAndSelectedTotals() {
        try (CounterSet<Exit> exits = CounterSet.unpublished(Exit.class)) {
            exits.add(Exit.HLT, 3);
            exits.add(Exit.IO, 5);
            exits.increment(Exit.FAULT);
            assertEquals(5, exits.get(Exit.IO));
            assertEquals(9, exits.total());
            assertEquals(6, exits.total(EnumSet.complementOf(EnumSet.of(Exit.HLT))));
            assertEquals("{exits: HLT=3, exits: I/O instruction=5, faults: guest touched unmapped memory=1}",
                    exits.toString());
        }
    }

    @Test
    void closeFreesEverySlotAndKeepsTheFinalValuesReadable() {
        final Counters counters = Counters.inMemory(Exit.values().length);
        final CounterSet<Exit> first = new CounterSet<>(counters, Exit.class, "first", CounterType.DEVICE);
        first.add(Exit.FAULT, 7);
        first.close();
        first.close();
        assertEquals(7, first.get(Exit.FAULT), "final value after close");
        final int[] allocated = {0};
        counters.reader().forEach((counterId, typeId, keyBuffer, label) -> allocated[0]++);
        assertEquals(0, allocated[0], "no slot left allocated");
        try (CounterSet<Exit> second = new CounterSet<>(counters, Exit.class, "second", CounterType.DEVICE)) {
            assertEquals(0, second.get(Exit.FAULT), "a reused slot starts at zero");
        }
    }

    @Test
    void aSetThatDoesNotFitFreesWhatItAllocated() {
        final Counters counters = Counters.inMemory(Exit.values().length - 1);
        assertThrows(RuntimeException.class, () -> new CounterSet<>(counters, Exit.class, "big", CounterType.DEVICE));
        final int[] allocated = {0};
        counters.reader().forEach((counterId, typeId, keyBuffer, label) -> allocated[0]++);
        assertEquals(0, allocated[0]);
    }
}
