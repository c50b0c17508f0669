/**
 * Serving virtio-blk queues: {@link io.vioplane.virtioblk.engine.VirtioBlkDevice} with one
 * {@link io.vioplane.virtioblk.engine.BlkQueueEngine} per request queue.
 */
package io.vioplane.virtioblk.engine;
