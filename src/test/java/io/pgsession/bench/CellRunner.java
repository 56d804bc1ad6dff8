package io.pgsession.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * Runs one cell: every thread warms up for the warm-up time, then all start together and run the
 * workload for the measured time, recording each operation's latency in nanoseconds. Statements are
 * counted between the common start and the common end only.
 *
 * <p>The invalidate and touch-only workloads use up one session per operation: after the warm-up
 * each thread creates, off the clock, about one and a half times as many as its warm-up rate says
 * it will get through, and the cell ends early (the elapsed time counting only until then) if a
 * thread runs out.
 */
final class CellRunner {
  private static final int PREPARED_PER_CELL = 24_000;
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** HotSpot's extension that counts the bytes a thread allocated, where the JVM offers it. */
  private static final com.sun.management.@Nullable ThreadMXBean ALLOCATION =
      THREADS instanceof com.sun.management.ThreadMXBean counting
              && counting.isThreadAllocatedMemorySupported()
              && counting.isThreadAllocatedMemoryEnabled()
          ? counting
          : null;

  private final StatementCounter counter;
  private final Duration warmUp;
  private final Duration measure;

  CellRunner(StatementCounter counter, Duration warmUp, Duration measure) {
    this.counter = counter;
    this.warmUp = warmUp;
    this.measure = measure;
  }

  /** The result, and the sessions that exist afterwards (a mixed workload creates and deletes). */
  record Outcome(CellResult result, List<String> sessions) {}

  Outcome run(
      StoreDriver<?> store,
      Workload workload,
      SessionShape shape,
      int threads,
      List<String> sessions) {
    Run run = new Run(store, workload, threads);
    Worker[] workers = new Worker[threads];
    for (int t = 0; t < threads; t++) {
      List<String> slice =
          sessions.subList(t * sessions.size() / threads, (t + 1) * sessions.size() / threads);
      workers[t] = new Worker(t, slice, shape.attributes());
    }
    run.execute(workers);
    List<String> after = new ArrayList<>();
    long[] all = new long[0];
    long cpu = 0;
    long allocated = ALLOCATION == null ? -1 : 0;
    for (Worker w : workers) {
      cpu += w.cpuNanos();
      allocated += ALLOCATION == null ? 0 : w.allocatedBytes();
      after.addAll(w.sessions);
      long[] mine = w.latencies();
      all = Arrays.copyOf(all, all.length + mine.length);
      System.arraycopy(mine, 0, all, all.length - mine.length, mine.length);
    }
    Arrays.sort(all);
    Throwable failure = run.failure.get();
    CellResult result =
        new CellResult(
            store.name(),
            shape,
            workload,
            threads,
            all.length,
            (run.end - run.start) / 1e9,
            percentile(all, 0.50),
            percentile(all, 0.99),
            run.statements,
            cpu,
            allocated,
            run.machine,
            failure == null ? null : describe(failure),
            List.of());
    return new Outcome(result, after);
  }

  /** The first line of a failure, short enough for a table cell. */
  static String describe(Throwable failure) {
    String text = failure.getClass().getSimpleName() + ": " + failure.getMessage();
    int newline = text.indexOf('\n');
    text = newline < 0 ? text : text.substring(0, newline);
    return text.length() > 120 ? text.substring(0, 117) + "..." : text;
  }

  private static long allocatedByThisThread() {
    return ALLOCATION == null ? 0 : ALLOCATION.getCurrentThreadAllocatedBytes();
  }

  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank))];
  }

  /** One execution of a cell by its threads. */
  private final class Run {
    private final StoreDriver<?> store;
    private final Workload workload;
    private final int threads;
    private final CyclicBarrier ready;
    private final CyclicBarrier done;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean stop;
    private volatile long start;
    private volatile long end;
    private volatile long statements;
    private volatile long machineBefore;
    private volatile long machine;

    Run(StoreDriver<?> store, Workload workload, int threads) {
      this.store = store;
      this.workload = workload;
      this.threads = threads;
      this.ready =
          new CyclicBarrier(
              threads,
              () -> {
                counter.reset();
                machineBefore = MachineCpu.busyNanos();
                start = System.nanoTime();
              });
      this.done =
          new CyclicBarrier(
              threads,
              () -> {
                end = System.nanoTime();
                long machineAfter = MachineCpu.busyNanos();
                machine = machineBefore < 0 || machineAfter < 0 ? -1 : machineAfter - machineBefore;
                statements = counter.count();
              });
    }

    void execute(Worker[] workers) {
      List<Thread> running = new ArrayList<>();
      for (Worker w : workers) {
        Thread thread = new Thread(() -> body(w), "bench-" + store.name() + "-" + w.index);
        thread.setDaemon(true);
        thread.start();
        running.add(thread);
      }
      long limit = warmUp.plus(measure).plusMinutes(5).toMillis();
      for (Thread thread : running) {
        try {
          thread.join(limit);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          fail(e);
        }
        if (thread.isAlive()) {
          fail(new TimeoutException(thread.getName() + " did not finish"));
        }
      }
    }

    private void body(Worker w) {
      guarded(() -> warm(w));
      guarded(() -> prepare(w));
      w.forgetLatencies();
      await(ready);
      guarded(() -> measure(w));
      await(done);
    }

    private void warm(Worker w) throws Exception {
      long until = System.nanoTime() + warmUp.toNanos();
      while (!stop && System.nanoTime() < until) {
        workload.warmUp(store, w);
      }
    }

    private void prepare(Worker w) throws Exception {
      if (workload.preparedAge() < 0) {
        return;
      }
      long spent = Arrays.stream(w.latencies()).sum();
      double perSecond = spent == 0 ? 1000 : w.recorded() / (spent / 1e9);
      long wanted = (long) (perSecond * measure.toMillis() / 1000.0 * 1.5) + 20;
      long quota = Math.min(wanted, PREPARED_PER_CELL / threads);
      for (long i = 0; i < quota && !stop; i++) {
        long accessed = System.currentTimeMillis() - workload.preparedAge();
        w.prepared.add(store.create(w.newId(), accessed, w.attributes));
      }
    }

    private void measure(Worker w) throws Exception {
      long deadline = start + measure.toNanos();
      long cpuBefore = THREADS.getCurrentThreadCpuTime();
      long allocatedBefore = allocatedByThisThread();
      try {
        loop(w, deadline);
      } finally {
        w.addCpu(THREADS.getCurrentThreadCpuTime() - cpuBefore);
        w.addAllocated(allocatedByThisThread() - allocatedBefore);
      }
    }

    private void loop(Worker w, long deadline) throws Exception {
      while (!stop) {
        long before = System.nanoTime();
        if (before >= deadline) {
          return;
        }
        if (workload.preparedAge() >= 0 && w.prepared.isEmpty()) {
          stop = true;
          return;
        }
        workload.run(store, w);
        w.record(System.nanoTime() - before);
      }
    }

    private void guarded(Step step) {
      try {
        step.run();
      } catch (Exception | AssertionError e) {
        fail(e);
      }
    }

    private void await(CyclicBarrier barrier) {
      try {
        barrier.await(warmUp.plus(measure).plusMinutes(2).toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail(e);
      } catch (BrokenBarrierException | TimeoutException e) {
        fail(e);
      }
    }

    private void fail(Throwable e) {
      if (failure.compareAndSet(null, e)) {
        System.err.println(store.name() + " failed in " + workload.label + ":");
        e.printStackTrace();
      }
      stop = true;
    }
  }

  @FunctionalInterface
  private interface Step {
    void run() throws Exception;
  }
}
