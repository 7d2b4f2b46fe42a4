package io.shardkit.testkit.impl;

import com.github.dockerjava.api.DockerClient;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;

/**
 * The process control of one test server's Docker container, shared by the MySQL shards and the
 * PostgreSQL server of the Testcontainers providers: created on first start, then started, stopped,
 * killed (SIGKILL), paused and resumed (the cgroup freezer: SIGSTOP's container equivalent) through
 * the Docker API, keeping the container (and its data and fixed host port) between them. Not
 * thread-safe: its owners call it under their own lock.
 */
final class ContainerProcess {

  private final GenericContainer<?> container;
  private boolean created;
  private boolean running;
  private boolean paused;

  ContainerProcess(GenericContainer<?> container) {
    this.container = container;
  }

  private DockerClient docker() {
    return DockerClientFactory.instance().client();
  }

  /** Creates and starts the container the first time, starts it again or resumes it later. */
  void start() {
    if (!created) {
      container.start();
      created = true;
    } else if (!running) {
      docker().startContainerCmd(container.getContainerId()).exec();
    } else if (paused) {
      resume();
    }
    running = true;
    paused = false;
  }

  /** A clean stop (the image's own stop signal). */
  void stop() {
    if (running) {
      resume();
      docker().stopContainerCmd(container.getContainerId()).exec();
      running = false;
    }
  }

  /** SIGKILL to the server (resumed first, so that the kill lands). */
  void kill() {
    if (running) {
      resume();
      docker().killContainerCmd(container.getContainerId()).withSignal("SIGKILL").exec();
      running = false;
    }
  }

  void pause() {
    if (running && !paused) {
      docker().pauseContainerCmd(container.getContainerId()).exec();
      paused = true;
    }
  }

  void resume() {
    if (running && paused) {
      docker().unpauseContainerCmd(container.getContainerId()).exec();
      paused = false;
    }
  }

  boolean isRunning() {
    return running;
  }

  boolean isPaused() {
    return paused;
  }

  /** The server's process id on the host, or -1 when it is not running. */
  long pid() {
    if (!running || !created) {
      return -1;
    }
    Long pid =
        docker().inspectContainerCmd(container.getContainerId()).exec().getState().getPidLong();
    return pid == null || pid == 0 ? -1 : pid;
  }

  /** Removes the container (ignoring one that is gone already: the reaper removes the rest). */
  void destroy() {
    if (created) {
      try {
        container.stop();
      } catch (RuntimeException ignored) {
        // gone already
      }
    }
    running = false;
    paused = false;
  }
}
