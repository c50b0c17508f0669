/** The driver side of virtio-blk for tests of this module and others. */
package io.vioplane.virtioblk.testkit;
