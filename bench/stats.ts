/** Latency percentiles and a closed-loop load driver shared by the benchmarks. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export interface LoadResult {
  count: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  firstError?: string;
  /** Every successful task's latency in ms, sorted: lets interleaved rounds be combined. */
  latencies: number[];
}

/** `concurrency` workers each run `task` back to back until `total` tasks have started. */
export async function drive(total: number, concurrency: number, task: (index: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const index = next++;
        if (index >= total) return;
        const begin = performance.now();
        try {
          await task(index);
          latencies.push(performance.now() - begin);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), firstError, latencies };
}

export const ms = (value: number) => `${value.toFixed(1)} ms`;

/** One result from several rounds of the same target (interleaved with other targets). */
export function combine(rounds: LoadResult[]): LoadResult {
  const latencies = rounds.flatMap((round) => round.latencies).sort((a, b) => a - b);
  const seconds = rounds.reduce((sum, round) => sum + round.seconds, 0);
  const errors = rounds.reduce((sum, round) => sum + round.errors, 0);
  const firstError = rounds.find((round) => round.firstError)?.firstError;
  return { count: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), firstError, latencies };
}
