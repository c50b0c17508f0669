package io.vioplane.platform.runtime;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Starts data-plane agents on their own named daemon threads (Agrona {@link AgentRunner}): one agent per
 * queue group, the single writer of its rings.
 */
public final class AgentThreads {
    private AgentThreads() {
    }

    /**
     * Starts {@code agent} on a new daemon thread named after its role.
     *
     * @param idle         what the thread does when a duty cycle found no work
     * @param errors       receives every exception the agent throws (the agent keeps running)
     * @param errorCounter counts them, or null
     * @return the runner; {@link AgentRunner#close()} stops the agent and joins its thread
     */
    public static AgentRunner start(final Agent agent, final IdleStrategy idle, final ErrorHandler errors,
                                    final AtomicCounter errorCounter) {
        final AgentRunner runner = new AgentRunner(idle, errors, errorCounter, agent);
        AgentRunner.startOnThread(runner, task -> {
            final Thread thread = new Thread(task, agent.roleName());
            thread.setDaemon(true);
            return thread;
        });
        return runner;
    }
}
