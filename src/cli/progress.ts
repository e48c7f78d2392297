/**
 * Progress of a long command: a bar on stderr when it is a terminal; otherwise a plain line on
 * stdout at every tenth (and `note` lines, e.g. failures, as they happen).
 */
import cliProgress from 'cli-progress';
import { printLine } from './output.js';

export type ProgressReporter = {
  update(done: number, total: number): void;
  note(line: string): void;
  stop(): void;
};

/**
 * `lines`: where the plain lines go when stderr is not a terminal: stdout for a command whose
 * output is those lines (migrate), stderr for one that prints JSON on stdout.
 */
export function progressReporter(
  label: string,
  lines: 'stdout' | 'stderr' = 'stdout',
): ProgressReporter {
  const line = (text: string) =>
    lines === 'stdout' ? printLine(text) : process.stderr.write(`${text}\n`);
  if (process.stderr.isTTY) {
    let bar: cliProgress.SingleBar | undefined;
    return {
      update: (done, total) => {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              format: `${label} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted}`,
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, 0);
        }
        bar.setTotal(total);
        bar.update(done);
      },
      note: (text) => {
        bar?.stop();
        line(text);
      },
      stop: () => bar?.stop(),
    };
  }
  let lastTenth = 0;
  return {
    update: (done, total) => {
      const tenth = total === 0 ? 10 : Math.floor((done * 10) / total);
      if (tenth > lastTenth || done === total) {
        lastTenth = tenth;
        line(
          `${label} ${done}/${total} (${total === 0 ? 100 : Math.round((done * 100) / total)}%)`,
        );
      }
    },
    note: line,
    stop: () => {},
  };
}
