/**
 * The virtio block device (VIRTIO 1.x section 5.2), independent of its transport: feature bits, configuration
 * space, request validation; {@code engine} serves the queues, {@code backend} holds the storage SPI and the
 * raw-image backend.
 */
package io.vioplane.virtioblk;
