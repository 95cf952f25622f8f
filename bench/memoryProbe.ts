/**
 * Preloaded into the watch process by the watch bench (`node --expose-gc --require`): on SIGUSR2, a
 * full garbage collection, then one line on stderr with the heap in use and the resident set, in bytes.
 * The product has no such hook; the bench measures it from outside.
 */
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  process.stderr.write(`memory-probe ${heapUsed} ${rss}\n`);
});
