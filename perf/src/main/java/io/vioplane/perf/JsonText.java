package io.vioplane.perf;

import java.util.Locale;

/** The little JSON vioplane's commands write (RFC 8259 string literals), without a library. */
public final class JsonText {
    private JsonText() {
    }

    /** @return {@code text} as a JSON string literal */
    public static String string(final String text) {
        final StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            final char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(c < 0x20 ? String.format(Locale.ROOT, "\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return out.append('"').toString();
    }
}
