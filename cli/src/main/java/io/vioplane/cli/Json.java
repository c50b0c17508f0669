package io.vioplane.cli;

/** The little JSON the commands write (RFC 8259 strings), without a library. */
final class Json {
    private Json() {
    }

    /** @return {@code text} as a JSON string literal */
    static String string(final String text) {
        final StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            final char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return out.append('"').toString();
    }

    /** @return {@code value} as a JSON number, or null when it is not finite */
    static String number(final double value) {
        return Double.isFinite(value) ? Double.toString(value) : "null";
    }
}
