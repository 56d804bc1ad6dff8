package io.pgsession.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The busy CPU time of the whole machine (every core, user and kernel, the database included), read
 * from Linux's {@code /proc/stat}. Where that file is missing, every reading is {@code -1} and the
 * benchmark leaves the figure out.
 */
final class MachineCpu {
  private static final Path STAT = Path.of("/proc/stat");

  /** The clock tick of {@code /proc/stat}, 100 Hz on every common Linux build. */
  private static final long NANOS_PER_TICK = 10_000_000L;

  private MachineCpu() {}

  /** Busy nanoseconds summed over all cores since boot, or {@code -1} when unknown. */
  static long busyNanos() {
    try {
      List<String> lines = Files.readAllLines(STAT);
      String[] f = lines.get(0).trim().split("\\s+");
      if (!f[0].equals("cpu") || f.length < 5) {
        return -1;
      }
      long busy = 0;
      // user nice system idle iowait irq softirq steal; guest time is already in user.
      for (int i = 1; i < Math.min(f.length, 9); i++) {
        if (i != 4 && i != 5) {
          busy += Long.parseLong(f[i]);
        }
      }
      return busy * NANOS_PER_TICK;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
