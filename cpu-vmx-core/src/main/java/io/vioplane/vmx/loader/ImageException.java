package io.vioplane.vmx.loader;

import java.io.Serial;

/** A guest image the loader refuses: not ELF64 x86-64, a segment outside guest memory, overlapping segments. */
public final class ImageException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    public ImageException(final String message) {
        super(message);
    }
}
